import { appendFile, chmod } from 'node:fs/promises';
import type { DeadLetterSink, FailedEvent } from '#shared/ports/event-publisher';

/** The local platform's telemetry dead-letter path: JSON lines in the state folder. */
export class FileDeadLetterSink implements DeadLetterSink {
  constructor(private readonly file: string) {}

  async write(entry: { reason: string; failed: readonly FailedEvent[] }): Promise<void> {
    const line = JSON.stringify({ ...entry, deadLetteredAt: new Date().toISOString() });
    await appendFile(this.file, `${line}\n`, { mode: 0o600 });
    await chmod(this.file, 0o600);
  }
}
