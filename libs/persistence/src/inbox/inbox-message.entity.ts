import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A row of `inbox_messages`: `consumer` handled the envelope `envelopeId` at `handledAt`. */
@Entity({ name: 'inbox_messages' })
export class InboxMessage {
  @PrimaryColumn({ type: 'text' })
  consumer!: string;

  @PrimaryColumn({ type: 'uuid', name: 'envelope_id' })
  envelopeId!: string;

  @Column({ type: 'timestamptz', name: 'handled_at' })
  handledAt!: Date;
}
