// Validate the OpenAPI document a running Forgekeys serves (tests/it/api_openapi.rs runs this):
// node tests/api/validate-openapi.mjs http://127.0.0.1:PORT/api/v1/openapi.json
// Prints "valid <openapi version> <path count>" and exits 0, or prints the error and exits 1.
import SwaggerParser from "@apidevtools/swagger-parser";

const url = process.argv[2];
try {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  const doc = await res.json();
  // validate() dereferences in place: keep the original to report from.
  const checked = await SwaggerParser.validate(structuredClone(doc));
  if (!String(checked.openapi).startsWith("3.1")) {
    throw new Error(`not OpenAPI 3.1: ${checked.openapi}`);
  }
  console.log(`valid ${checked.openapi} ${Object.keys(checked.paths ?? {}).length}`);
} catch (e) {
  console.error(`invalid: ${e.message}`);
  process.exit(1);
}
