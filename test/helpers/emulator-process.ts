import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

/**
 * One emulator (s3rver, Azurite) as a child process on a fixed 127.0.0.1 port, which can be
 * stopped and started again on the same port and data directory to simulate an outage.
 */
export class EmulatorProcess {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(
    private readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    readonly port: number,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    if (this.child) return;
    this.output = '';
    const child = spawn(this.command, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + timeoutMs;
    while (!(await canConnect(this.port))) {
      if (exited) {
        this.child = undefined;
        throw new Error(`${this.name} exited before listening on 127.0.0.1:${this.port}: ${this.output}`);
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`${this.name} did not listen on 127.0.0.1:${this.port} within ${timeoutMs} ms: ${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the process (SIGTERM, then SIGKILL after 10 s) and waits until the port is closed. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    const deadline = Date.now() + 10_000;
    while ((await canConnect(this.port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
