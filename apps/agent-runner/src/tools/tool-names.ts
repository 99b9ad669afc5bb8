/** The tools an agent definition may grant, by the name the model sees. */
export const TOOL_NAMES = ['query_context', 'publish_fact', 'propose_action', 'delegate_subtask', 'ask_human'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];
