// Writes src/routes/openapi.json, the OpenAPI document the Worker serves, from the route table in src/openapi/ (`npm run openapi`).

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { OPENAPI_JSON_PATH, openApiJSON } from '../src/openapi/document.ts';

const out = path.resolve(import.meta.dirname, '..', OPENAPI_JSON_PATH);
writeFileSync(out, openApiJSON());
console.log(`wrote ${OPENAPI_JSON_PATH}`);
