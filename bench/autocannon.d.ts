// The part of autocannon the throughput benchmark uses (the package ships no types). tsc reads
// this file through tsconfig.json; Deno, which types the untyped package as any, needs none.
declare module 'autocannon' {
  interface Options {
    url: string
    method?: string
    connections?: number
    duration?: number
    setupClient?: (client: { setHeaders(headers: Record<string, string>): void }) => void
  }
  interface Result {
    non2xx: number
    errors: number
    duration: number
    requests: { total: number }
  }
  export default function autocannon(options: Options): Promise<Result>
}
