/**
 * The platform as separate processes, as docker compose runs it, for the benches and the failure
 * drills: a supervisor and its services (start, readiness, output, kill, stop, restart, a janitor
 * for a parent that dies without its cleanup), the platform's settings and start as processes,
 * CPU and memory from /proc, and an OTLP receiver that collects the processes' spans.
 *
 * Import it as `@umi/testkit/processes`: it loads neither the platform nor a database client, so a
 * script that only supervises processes stays light.
 */
export * from './supervisor';
export * from './platform-processes';
export * from './proc-usage';
export * from './redis-server';
export * from './otlp-receiver';
