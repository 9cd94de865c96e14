/**
 * The progress of a send on stderr: a bar redrawn in place on a terminal (at most ten times a second), a line per
 * tenth otherwise (a log file or a pipe gets no carriage returns).
 */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class ProgressBar {
  private lastDraw = 0;
  private lastTenth = -1;
  private readonly started = Date.now();

  constructor(
    private readonly stream: ProgressStream,
    private readonly total: number,
  ) {}

  /** `done` of `total` handled, `failed` of them refused by SQS. */
  update(done: number, failed: number): void {
    const now = Date.now();
    const rate = done / Math.max(0.001, (now - this.started) / 1000);
    const text = `${done}/${this.total} (${failed} failed) ${Math.round(rate)}/s`;
    if (this.stream.isTTY) {
      if (done < this.total && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - text.length - 10));
      const filled = this.total === 0 ? width : Math.round((done / this.total) * width);
      this.stream.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}${done === this.total ? '\n' : ''}`,
      );
      return;
    }
    const tenth = this.total === 0 ? 10 : Math.floor((done / this.total) * 10);
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    // The share actually sent, not the tenth it falls in ("sent 0%: 10/120" read as nothing sent).
    this.stream.write(`sent ${this.total === 0 ? 100 : Math.floor((done / this.total) * 100)}%: ${text}\n`);
  }
}
