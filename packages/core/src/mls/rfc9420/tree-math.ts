/**
 * Array-based tree math, RFC 9420 Appendix C. Nodes of a left-balanced binary tree are numbered in
 * order: leaf i is node 2i, parent nodes are odd. The tree is always complete (§7.7: it grows by
 * doubling and shrinks by halving), so `n` leaves is a power of two and
 *
 *     level(x)     = number of trailing 1 bits of x
 *     node_width n = 2(n - 1) + 1
 *     root(n)      = (1 << log2(node_width(n))) - 1
 *     left(x)      = x ^ (0x01 << (level(x) - 1))
 *     right(x)     = x ^ (0x03 << (level(x) - 1))
 *     parent(x)    = (x | (1 << k)) ^ (b << (k + 1)),  k = level(x), b = (x >> (k + 1)) & 1
 *
 * Everything is integer arithmetic on node indexes: no tree object, O(log n) per call.
 */
import { fail } from "./errors.js";

export function log2(x: number): number {
  if (x === 0) return 0;
  let k = 0;
  while (x >> k > 0) k++;
  return k - 1;
}

export function level(x: number): number {
  if ((x & 1) === 0) return 0;
  let k = 0;
  while (((x >> k) & 1) === 1) k++;
  return k;
}

export const nodeWidth = (n: number): number => (n === 0 ? 0 : 2 * (n - 1) + 1);

export const root = (n: number): number => (1 << log2(nodeWidth(n))) - 1;

export const leafToNode = (leaf: number): number => leaf * 2;
export const nodeToLeaf = (node: number): number => node >> 1;
export const isLeaf = (x: number): boolean => (x & 1) === 0;

export function left(x: number): number {
  const k = level(x);
  if (k === 0) fail("malformed", "a leaf has no children");
  return x ^ (1 << (k - 1));
}

export function right(x: number): number {
  const k = level(x);
  if (k === 0) fail("malformed", "a leaf has no children");
  return x ^ (3 << (k - 1));
}

export function parent(x: number, n: number): number {
  if (x === root(n)) fail("malformed", "the root has no parent");
  const k = level(x);
  const b = (x >> (k + 1)) & 1;
  return (x | (1 << k)) ^ (b << (k + 1));
}

export function sibling(x: number, n: number): number {
  const p = parent(x, n);
  return x < p ? right(p) : left(p);
}

/** The direct path: parents of x up to and including the root (empty for the root). */
export function directPath(x: number, n: number): number[] {
  const r = root(n);
  const out: number[] = [];
  if (x === r) return out;
  let d = x;
  while (d !== r) {
    d = parent(d, n);
    out.push(d);
  }
  return out;
}

/** The copath: the sibling of x and of each node of its direct path except the root. */
export function copath(x: number, n: number): number[] {
  if (x === root(n)) return [];
  const path = [x, ...directPath(x, n)];
  path.pop();
  return path.map((y) => sibling(y, n));
}

/** Leaves (as leaf indexes) below node x, as the half-open range [first, end). */
export function leafRange(x: number): { first: number; end: number } {
  const k = level(x);
  const first = (x - ((1 << k) - 1)) >> 1;
  return { first, end: first + (1 << k) };
}

/** Whether node x is in the subtree rooted at node y. */
export function isInSubtree(x: number, y: number): boolean {
  const k = level(y);
  return x >> (k + 1) === y >> (k + 1);
}
