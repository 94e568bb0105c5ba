"use strict";
/* @corral/langgraph for require(): the saver over the CommonJS build of
 * @langchain/langgraph-checkpoint. */
const define = require("./saver.cjs");

exports.CorralSaver = define(require("@langchain/langgraph-checkpoint"));
