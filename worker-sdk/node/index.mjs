/* @corral/langgraph for import: the saver over the ES module build of
 * @langchain/langgraph-checkpoint. */
import * as lg from "@langchain/langgraph-checkpoint";
import define from "./saver.cjs";

export const CorralSaver = define(lg);
export default CorralSaver;
