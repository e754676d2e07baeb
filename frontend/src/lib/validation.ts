// The validate endpoint's report. The OpenAPI document gives its statements, errors
// and plan only as `object`, so they are read here field by field, with the shapes
// engine-client serializes (script.rs ScriptError, types.rs Plan/PlanNode).
import type { Schemas } from '../api/client';
import type { Problem } from '../components/SqlEditor';

export type ValidationReport = Schemas['ValidationReport'];

export interface PlanNode {
  id: string;
  parallelism: number;
  operator: string;
  description: string;
  inputs: { id: string; ship_strategy: string }[];
}

export interface Plan {
  name: string;
  nodes: PlanNode[];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});

export function reportProblems(r: ValidationReport): Problem[] {
  return (r.errors as unknown[]).map((e) => {
    const o = obj(e);
    return { message: str(o.message), line: num(o.line, 1), column: num(o.column, 1), severity: 'error' as const };
  });
}

export function reportPlan(r: ValidationReport): Plan | undefined {
  if (!r.plan) return undefined;
  const p = obj(r.plan);
  const nodes = Array.isArray(p.nodes) ? p.nodes : [];
  return {
    name: str(p.name),
    nodes: nodes.map((n) => {
      const o = obj(n);
      return {
        id: str(o.id),
        parallelism: num(o.parallelism),
        operator: str(o.operator),
        description: str(o.description),
        inputs: (Array.isArray(o.inputs) ? o.inputs : []).map((i) => ({ id: str(obj(i).id), ship_strategy: str(obj(i).ship_strategy) })),
      };
    }),
  };
}

export interface TableRef {
  name: string;
  connector: string | null;
}

export function reportTables(list: unknown[]): TableRef[] {
  return list.map((t) => ({ name: str(obj(t).name), connector: str(obj(t).connector) || null }));
}

export interface PlanTreeNode {
  node: PlanNode;
  /** What feeds this operator, i.e. its inputs; sinks are the roots. */
  children: PlanTreeNode[];
  ship?: string;
}

/**
 * The job graph as a tree read from the sinks back to the sources, the way people
 * read a plan: a node nobody consumes is a root, its inputs are its children.
 */
export function planTree(plan: Plan): PlanTreeNode[] {
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const consumed = new Set(plan.nodes.flatMap((n) => n.inputs.map((i) => i.id)));
  const build = (n: PlanNode, seen: Set<string>, ship?: string): PlanTreeNode => ({
    node: n,
    ship,
    children: n.inputs
      .filter((i) => byId.has(i.id) && !seen.has(i.id))
      .map((i) => build(byId.get(i.id)!, new Set([...seen, i.id]), i.ship_strategy)),
  });
  const roots = plan.nodes.filter((n) => !consumed.has(n.id));
  return (roots.length ? roots : plan.nodes.slice(0, 1)).map((n) => build(n, new Set([n.id])));
}
