import type { Schemas } from '../api/client';
import { planTree, type Plan, type PlanTreeNode } from '../lib/validation';

/** The engine's dry-run plan as a tree of operators, sinks at the top. */
export function PlanView({ plan, engine }: { plan?: Plan; engine: Schemas['EngineCheck'] }) {
  if (!plan)
    return (
      <div className="muted">
        No plan: the engine {engine.status === 'refused' ? 'refused the job (see Problems)' : `was not asked (${engine.status}${engine.message ? ': ' + engine.message : ''})`}.
      </div>
    );
  const roots = planTree(plan);
  return (
    <div data-testid="plan">
      <div className="muted small" style={{ marginBottom: 6 }}>
        {plan.name || 'Job'} · {plan.nodes.length} operator{plan.nodes.length === 1 ? '' : 's'}
      </div>
      <ul className="plan-tree root">{roots.map((r) => <PlanItem key={r.node.id} n={r} />)}</ul>
    </div>
  );
}

function PlanItem({ n }: { n: PlanTreeNode }) {
  return (
    <li className="plan-node">
      <div>
        {n.ship && <span className="badge" title="How records reach the operator above">{n.ship}</span>}{' '}
        <span className="op">{n.node.operator || n.node.description.split('\n')[0] || n.node.id}</span>{' '}
        <span className="muted small">× {n.node.parallelism}</span>
      </div>
      {n.node.description && n.node.description !== n.node.operator && (
        <div className="muted small mono" style={{ whiteSpace: 'pre-wrap', maxWidth: 900 }}>
          {n.node.description.replace(/<br\/?>/g, '\n').slice(0, 400)}
        </div>
      )}
      {n.children.length > 0 && <ul className="plan-tree">{n.children.map((c) => <PlanItem key={c.node.id} n={c} />)}</ul>}
    </li>
  );
}
