export { freePort, waitForPort, canConnect } from './ports';
export { toolPath, postgresToolPath, repoRoot, type ToolName } from './tools';
export { startPostgres, createDatabase, type StartPostgresOptions, type PostgresHandle } from './postgres';
export { startVersitygw, type StartVersitygwOptions, type VersitygwHandle } from './object-store';
export {
  startTemporalDevServer,
  dynamicConfigArgs,
  type SearchAttributeType,
  type StartTemporalDevServerOptions,
  type TemporalDevServerHandle,
} from './temporal';
export {
  startClamd,
  EICAR_TEST_FILE,
  EICAR_SIGNATURE_NAME,
  type StartClamdOptions,
  type ClamdHandle,
} from './clamd';
export { ASSETLINE_SEARCH_ATTRIBUTES } from './search-attributes';
export {
  startNginx,
  runNginx,
  nginxConfig,
  nginxTempPaths,
  type StartNginxOptions,
  type NginxHandle,
} from './nginx';
export { geoip2Module } from './nginx-geo';
export {
  startAssetline,
  killHard,
  rssBytes,
  childrenOf,
  descendants,
  treeRssBytes,
  type AssetlineProcess,
  type AssetlineRole,
  type StartAssetlineOptions,
} from './assetline';
export {
  startLocalPlatform,
  type LocalPlatform,
  type LocalPlatformOptions,
  type ServiceName,
} from './local-platform';
