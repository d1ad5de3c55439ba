export * from './actions';
export * from './model';
