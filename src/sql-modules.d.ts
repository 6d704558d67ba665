// Lets TypeScript import migrations/*.sql, which wrangler bundles as text ([[rules]] type "Text").
declare module '*.sql' {
  const text: string;
  export default text;
}
