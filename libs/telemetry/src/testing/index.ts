export { OnDemandMetricReader, type CollectedPoint } from './on-demand-metric-reader';
