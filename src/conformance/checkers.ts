/**
 * Component name → checker, for all nine components of the authors-reference vectors.
 * A plain record (no registry): the runner looks a case's component up here.
 */
import type { ComponentChecker } from './types';
import { checkUniform } from './uniform';
import { checkObservers } from './observers';
import { checkAdaround } from './adaround';
import { checkHluq } from './hluq';
import { checkLnq } from './lnq';
import { checkAgq } from './agq';
import { checkCag } from './cag';
import { checkAcnr } from './acnr';
import { checkBig } from './big';

/** Checkers by component, in the README's order. */
export const CHECKERS: Readonly<Record<string, ComponentChecker>> = {
  uniform: checkUniform,
  observers: checkObservers,
  adaround: checkAdaround,
  hluq: checkHluq,
  cag: checkCag,
  lnq: checkLnq,
  agq: checkAgq,
  acnr: checkAcnr,
  big: checkBig,
};
