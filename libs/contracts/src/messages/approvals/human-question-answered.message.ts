import { z } from 'zod';
import { TOPICS } from '../../topics/topics';
import { defineMessage } from '../message-contract';

export const HUMAN_QUESTION_ANSWERED = 'human.question.answered';

export const MAX_HUMAN_ANSWER_CHARS = 8_000;

/**
 * A human's answer to `human.question.asked`. It travels as the reply (bus.reply) to the asker's private reply
 * topic, which is the only place the asking agent reads it; its home channel is `baton.approvals.decisions`, where
 * the inbox may also publish the same envelope as the durable record of who answered what.
 */
export const humanQuestionAnswered = defineMessage({
  type: HUMAN_QUESTION_ANSWERED,
  version: 1,
  topic: TOPICS.approvalsDecisions,
  summary:
    'A human answers (or declines) an agent question: sent with bus.reply to the asker reply topic; the same envelope may be recorded on this channel.',
  payload: z
    .object({
      questionId: z.uuid(),
      /** The answer, or when declined why (may then be empty). */
      answer: z.string().max(MAX_HUMAN_ANSWER_CHARS),
      /** Who answered: a person's login or e-mail, or an escalation role. */
      answeredBy: z.string().min(1).max(200),
      /** The human refuses to answer; the agent must go on without it. */
      declined: z.boolean().optional(),
    })
    .strict()
    .refine((answer) => answer.declined === true || answer.answer.trim().length > 0, {
      message: 'required unless declined',
      path: ['answer'],
    }),
  key: (envelope) => envelope.payload.questionId,
});
