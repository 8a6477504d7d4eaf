import { flushTracing } from './trace-context';

/**
 * Runs a service's `main` as the process entry point: exits 1 with the error on a failed start,
 * and closes the service (draining requests, ending pools) on SIGTERM or SIGINT, so that a
 * container stop or Ctrl-C ends it cleanly.
 */
export function runMain(main: () => Promise<{ close(): Promise<void> }>): void {
  main().then(
    (service) => {
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        // The spans of the last requests leave before the process does.
        service.close().then(
          () => flushTracing().finally(() => process.exit(0)),
          () => flushTracing().finally(() => process.exit(1)),
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
