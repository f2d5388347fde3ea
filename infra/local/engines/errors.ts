/**
 * Errors raised by the embedded engines of the local platform. Each carries the engine's name so
 * `npm start` can tell a person which stand-in failed and why, without a stack trace.
 */
export class EngineError extends Error {
  readonly engine: string;

  constructor(engine: string, message: string, options?: { cause?: unknown }) {
    super(`${engine}: ${message}`, options);
    this.name = new.target.name;
    this.engine = engine;
  }
}

/** Another process (often an earlier `npm start` still running) already listens on the port. */
export class PortInUse extends EngineError {
  readonly port: number;

  constructor(engine: string, port: number, options?: { cause?: unknown }) {
    super(
      engine,
      `port ${port} on 127.0.0.1 is already in use; stop whatever listens there or choose another port`,
      options,
    );
    this.port = port;
  }
}

/** The engine could not be started; `message` includes the tail of its own log where there is one. */
export class EngineStartFailed extends EngineError {}
