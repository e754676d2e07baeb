import type { Schemas } from '../api/client';
import { planTree, type Plan, type PlanTreeNode } from '../lib/validation';

// Descriptions are plain text (the API decodes the engine's HTML): one line per
// chained operator.
function lines(s: string): string[] {
  return s
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
}

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
  const described = lines(n.node.description);
  const title = n.node.operator.trim() || described[0] || n.node.id;
  // Operators chained into this one (Flink's "+- ..." lines) below its name.
  const chained = n.node.operator.trim() ? described : described.slice(1);
  return (
    <li className="plan-node">
      <div>
        {n.ship && <span className="badge" title="How records reach the operator above">{n.ship}</span>}{' '}
        <span className="op">{title}</span> <span className="muted small">× {n.node.parallelism}</span>
      </div>
      {chained.length > 0 && (
        <div className="muted small mono" style={{ whiteSpace: 'pre-wrap', maxWidth: 900, paddingLeft: 12 }}>
          {chained.join('\n').slice(0, 600)}
        </div>
      )}
      {n.children.length > 0 && <ul className="plan-tree">{n.children.map((c) => <PlanItem key={c.node.id} n={c} />)}</ul>}
    </li>
  );
}
