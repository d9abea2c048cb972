/** `npm run bundle:workflows [-- FILE]`: writes the workflow bundle a worker loads with WORKFLOW_BUNDLE_PATH. */
import { bundleWorkflows } from '../worker/bundle-workflows';

const file = process.argv[2] ?? 'dist/workflow-bundle.js';
console.log(`workflow bundle written to ${await bundleWorkflows(file)}`);
