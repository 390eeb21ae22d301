export * from './errors';
export * from './rounding';
export * from './tensor';
export * from './rng';
