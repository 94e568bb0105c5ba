import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointTuple,
  type PendingWrite,
  type SerializerProtocol,
} from "@langchain/langgraph-checkpoint";

export interface CorralSaverOptions {
  /** A SQLite database, created if missing; absent or ":memory:": memory. */
  path?: string;
  /** "normal" (default): WAL, synchronous=NORMAL; "full": every put synced. */
  durability?: "normal" | "full";
}

/**
 * An Error of the store: code is libcorral's error ("CORRAL_EIO",
 * "CORRAL_EFULL", "CORRAL_EMOVED", "CORRAL_EDAMAGED", "CORRAL_ECORRUPT",
 * "CORRAL_EBUSY", "CORRAL_ENOMEM", "CORRAL_EINVAL"), and the message names
 * the database.
 */
export interface CorralError extends Error {
  code: string;
}

export declare class CorralSaver extends BaseCheckpointSaver {
  constructor(opts?: CorralSaverOptions, serde?: SerializerProtocol);
  /**
   * corrald's environment: CORRAL_CHECKPOINT_DB (unset: memory),
   * CORRAL_THREAD_ID (unset: "local"), CORRAL_RESUME_ID.
   */
  static fromEnv(
    env?: Record<string, string | undefined>,
    opts?: CorralSaverOptions & { serde?: SerializerProtocol }
  ): CorralSaver;
  /** ":memory:" or the database's path. */
  readonly path: string;
  /** fromEnv's thread; undefined for a saver made with new. */
  threadId: string | undefined;
  /** CORRAL_RESUME_ID: undefined when unset, "" when the thread has none. */
  resumeId: string | undefined;
  /**
   * { configurable: { thread_id, checkpoint_ns: "", checkpoint_id? } }:
   * checkpoint_id is CORRAL_RESUME_ID when it names one.
   */
  runConfig(): RunnableConfig;
  /** Closes the store and any list still open; closing twice is no error. */
  close(): void;
  getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined>;
  list(
    config: RunnableConfig,
    options?: CheckpointListOptions
  ): AsyncGenerator<CheckpointTuple>;
  put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions
  ): Promise<RunnableConfig>;
  putWrites(
    config: RunnableConfig,
    writes: PendingWrite[],
    taskId: string,
    taskPath?: string
  ): Promise<void>;
  deleteThread(threadId: string): Promise<void>;
}

export default CorralSaver;
