import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A row of `outbox_messages`; the table itself is created by a shared migration. */
@Entity({ name: 'outbox_messages' })
export class OutboxMessage {
  // bigint comes back from pg as a string: JS numbers cannot hold every bigserial.
  @PrimaryGeneratedColumn({ type: 'bigint' })
  seq!: string;

  @Column({ type: 'uuid', unique: true })
  id!: string;

  /** The logical topic (contracts' name); a deployment prefix is the publisher's business. */
  @Column({ type: 'text' })
  topic!: string;

  @Column({ type: 'text', name: 'message_key' })
  messageKey!: string;

  @Column({ type: 'bytea' })
  value!: Buffer;

  @Column({ type: 'jsonb' })
  headers!: Record<string, string>;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'published_at', nullable: true })
  publishedAt!: Date | null;

  @Column({ type: 'integer' })
  attempts!: number;

  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError!: string | null;
}
