/** Nest injection tokens of the tasks feature (apart, so providers can import them without cycles). */
export const LLM_GATEWAY = Symbol('LLM_GATEWAY');
export const AGENT_EXECUTOR = Symbol('AGENT_EXECUTOR');
