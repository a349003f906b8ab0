// Validates every document of the given Kubernetes manifests against the Kubernetes API
// schemas (npm kubernetes-models, compiled from the OpenAPI definitions with ajv) and the
// prometheus-operator CRD schemas (@kubernetes-models/prometheus-operator).
//
//   node k8s_validate.mjs FILE...      prints one line per document; exit 1 on any invalid
//                                      document or any kind it has no schema for
import { readFileSync } from "node:fs";
import yaml from "js-yaml";
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as monitoring from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const models = {
  v1: core,
  "apps/v1": apps,
  "monitoring.coreos.com/v1": monitoring,
};

let failures = 0;
for (const file of process.argv.slice(2)) {
  const docs = yaml.loadAll(readFileSync(file, "utf8")).filter((doc) => doc != null);
  if (docs.length === 0) {
    console.log(`FAIL ${file}: no documents`);
    failures++;
  }
  for (const doc of docs) {
    const name = `${file}: ${doc.kind} ${doc.metadata?.name ?? "(unnamed)"}`;
    const Model = models[doc.apiVersion]?.[doc.kind];
    if (!Model) {
      console.log(`FAIL ${name}: no schema for ${doc.apiVersion} ${doc.kind}`);
      failures++;
      continue;
    }
    try {
      new Model(doc).validate();
      console.log(`ok   ${name} (${doc.apiVersion})`);
    } catch (error) {
      console.log(`FAIL ${name}: ${error.message}`);
      failures++;
    }
  }
}
process.exit(failures === 0 ? 0 : 1);
