// A cluster's health in words, for the places a job is placed or watched: the deploy
// dialog and the deployment page.
import type { Schemas } from '../api/client';
import { Badge } from '../components/ui';
import { formatTime } from '../lib/dates';

type Health = Schemas['Health'];

/** A cluster's health in a few words, as it fits in a select's option. */
export function healthWords(h: Health): string {
  if (h.status === 'healthy') return 'healthy';
  if (h.status === 'unhealthy') return 'unhealthy';
  return 'health never checked';
}

/** What a health means for a job placed there, in a sentence; null when all is well. */
export function healthAdvice(h: Health): string | null {
  if (h.status === 'healthy') return null;
  if (h.status === 'unhealthy')
    return `The engine did not answer as it should when last checked${h.detail ? `: ${h.detail}` : ''}. A job placed here may not start, or may restart until it has resources.`;
  return 'Sluice has never checked this cluster: whether it answers and has free task slots is not known until a job runs there. Check it now, or choose another cluster.';
}

/** The health badge with its detail (task managers and free slots, or the failure) and when it was checked. */
export function HealthLine({ health }: { health: Health }) {
  return (
    <span data-testid="cluster-health">
      <Badge value={health.status} title={health.checked_at ? `Checked ${formatTime(health.checked_at)}` : 'Never checked'} />{' '}
      <span className="muted small">
        {health.status === 'unknown' ? 'never checked' : health.detail}
        {health.checked_at ? ` · checked ${formatTime(health.checked_at)}` : ''}
      </span>
    </span>
  );
}
