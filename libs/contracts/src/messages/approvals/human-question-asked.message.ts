import { z } from 'zod';
import { TOPICS } from '../../topics/topics';
import { identifierSchema } from '../common';
import { defineMessage } from '../message-contract';

export const HUMAN_QUESTION_ASKED = 'human.question.asked';

export const MAX_HUMAN_QUESTION_CHARS = 4_000;
export const MAX_HUMAN_QUESTION_CONTEXT_CHARS = 8_000;

/**
 * An agent's question to a human (the `ask_human` tool), sent with bus.request: the Kafka headers
 * `baton-reply-to` / `baton-request-id` say where the answer goes. Whoever serves the inbox answers with
 * `human.question.answered` through bus.reply before `expiresAt`; after it nobody is waiting.
 * The envelope id is the question id.
 */
export const humanQuestionAsked = defineMessage({
  type: HUMAN_QUESTION_ASKED,
  version: 1,
  topic: TOPICS.approvalsRequests,
  summary:
    'An agent asks a human a question (ask_human, bus.request); answer with human.question.answered via bus.reply to the baton-reply-to topic, echoing baton-request-id, before expiresAt.',
  payload: z
    .object({
      questionId: z.uuid(),
      taskId: z.uuid(),
      workflowId: z.uuid(),
      stepId: identifierSchema,
      agentId: identifierSchema,
      team: identifierSchema,
      question: z.string().min(1).max(MAX_HUMAN_QUESTION_CHARS),
      /** What the agent wants the human to know to answer (prose). */
      context: z.string().min(1).max(MAX_HUMAN_QUESTION_CONTEXT_CHARS).optional(),
      /** Answers the agent suggests; the human may still answer freely. */
      options: z.array(z.string().min(1).max(500)).min(1).max(20).optional(),
      /** After this instant the agent no longer waits: a later answer reaches nobody. */
      expiresAt: z.iso.datetime({ offset: true }),
    })
    .strict(),
  key: (envelope) => envelope.payload.questionId,
});
