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
  /**
   * A SQLite database, created if missing; or a PostgreSQL connection
   * string (postgresql://... or postgres://..., or libpq's key=value
   * form); absent or ":memory:": memory.
   */
  path?: string;
  /**
   * SQLite's: "normal" (default): WAL, synchronous=NORMAL; "full": every
   * put synced.  PostgreSQL commits as the server is set.
   */
  durability?: "normal" | "full";
}

/**
 * An Error of the store: code is libcorral's error ("CORRAL_EIO",
 * "CORRAL_EFULL", "CORRAL_EMOVED", "CORRAL_EDAMAGED", "CORRAL_ECORRUPT",
 * "CORRAL_EBUSY", "CORRAL_ENOMEM", "CORRAL_EINVAL", "CORRAL_EFENCED": a
 * fenced write refused, the thread's lease being another node's), and the
 * message names the database (a connection string without its password).
 */
export interface CorralError extends Error {
  code: string;
}

export declare class CorralSaver extends BaseCheckpointSaver {
  constructor(opts?: CorralSaverOptions, serde?: SerializerProtocol);
  /**
   * corrald's environment: CORRAL_CHECKPOINT_DB (a path or a PostgreSQL
   * connection string; unset: memory), CORRAL_THREAD_ID (unset: "local"),
   * CORRAL_RESUME_ID, and CORRAL_LEASE_TOKEN (set: the thread's writes
   * are fenced with it, see fence()).
   */
  static fromEnv(
    env?: Record<string, string | undefined>,
    opts?: CorralSaverOptions & { serde?: SerializerProtocol }
  ): CorralSaver;
  /** ":memory:", or the path or connection string given. */
  readonly path: string;
  /**
   * Fence this saver's writes to threadId with a lease's token: on
   * PostgreSQL they then reject with code "CORRAL_EFENCED", writing
   * nothing, once the thread's lease holds another token.  0 lifts the
   * fence; a no-op on SQLite and in memory.
   */
  fence(threadId: string, token: bigint | number | string): void;
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
