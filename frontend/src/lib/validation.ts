// The validate endpoint's report, in the shapes the console draws: problems for the
// editor's marks, the plan as a tree of operators, the tables read and written. Types
// come from the API document; fields the engine may leave out get their empty value.
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

/** The report's errors; one the engine could not place keeps no line (the whole script). */
export function reportProblems(r: ValidationReport): Problem[] {
  return scriptProblems(r.errors);
}

/**
 * Script errors as the editor marks them, wherever they come from: a validation report,
 * or a debug run the server refused for the script's own mistakes.
 */
export function scriptProblems(errors: readonly Schemas['ScriptError'][]): Problem[] {
  return errors.map((e) => ({
    message: e.message,
    line: e.line ?? undefined,
    column: e.column ?? undefined,
    hint: e.hint ?? undefined,
    severity: 'error' as const,
  }));
}

export function reportPlan(r: ValidationReport): Plan | undefined {
  if (!r.plan) return undefined;
  return {
    name: r.plan.name ?? '',
    nodes: (r.plan.nodes ?? []).map((n) => ({
      id: n.id,
      parallelism: n.parallelism ?? 0,
      operator: n.operator ?? '',
      description: n.description ?? '',
      inputs: (n.inputs ?? []).map((i) => ({ id: i.id, ship_strategy: i.ship_strategy ?? '' })),
    })),
  };
}

export type TableRef = Schemas['TableRef'];

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
