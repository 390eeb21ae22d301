/**
 * Named tap points for forward passes: observation (calibration, fixtures) and input transforms
 * (fake quantisation), passed explicitly as an argument — no global switches, no module state.
 *
 * Contract at a tap point `name` with value t:
 *   1. `observe(name, t)` is called with the value as computed (before any transform);
 *   2. if `transform` is given, `transform(name, t)` replaces t; it must return a float32 tensor of the same shape.
 * Callers must not mutate the tensors they receive.
 */
import { sameShape, specRequire, type Tensor } from '../tensor';

// TYPES

/** Read-only observer of a named intermediate. */
export type ObserveHook = (name: string, t: Tensor) => void;

/** Replacement of a named tensor (e.g. fake-quant of a Linear input); must preserve shape. */
export type TransformHook = (name: string, t: Tensor) => Tensor;

/** Hooks of a forward pass. */
export interface ForwardHooks {
  readonly observe?: ObserveHook;
  readonly transform?: TransformHook;
}

// MAIN

/**
 * Observe `t` as `name`, without transforming it; returns `t`.
 * @source this project (hook contract above)
 * @equation observe(name, t) = t
 * @deviation none
 * @precision exact
 */
export function observe(hooks: ForwardHooks | undefined, name: string, t: Tensor): Tensor {
  hooks?.observe?.(name, t);
  return t;
}

/**
 * Observe then (optionally) transform the tensor at tap point `name`; returns the value the forward pass continues with.
 * @source this project (hook contract above)
 * @equation tap(name, t) = transform(name, t) if transform is given, else t
 * @deviation none
 * @precision exact (identity when no transform)
 */
export function tap(hooks: ForwardHooks | undefined, name: string, t: Tensor): Tensor {
  hooks?.observe?.(name, t);
  if (hooks?.transform === undefined) return t;
  const y = hooks.transform(name, t);
  specRequire(y !== undefined && y !== null && y.dtype === 'float32' && sameShape(y.shape, t.shape), {
    fn: 'tap',
    what: `transform('${name}') result`,
    rule: `be a float32 tensor of shape [${t.shape.join(',')}]`,
    got: y?.shape,
  });
  return y;
}
