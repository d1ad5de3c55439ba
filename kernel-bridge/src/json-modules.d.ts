// JSON files imported with `with { type: 'json' }`: esbuild inlines them into the bundle and Node loads
// them from lib/. Their shape is checked where they are used, so TypeScript only needs to know they exist.
declare module '*.schema.json' {
  const value: unknown;
  export default value;
}
