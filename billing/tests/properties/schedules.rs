//! Random schedules of runs.

use super::*;

pub(crate) const ZONES: [&str; 6] = [
    "Asia/Shanghai",
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
];

/// Instants worth billing around in each zone: its daylight-saving changes (Berlin,
/// New York, Lord Howe's half-hour shifts), a leap day, a year end.
pub(crate) fn bases(zone: &str) -> Vec<&'static str> {
    let mut bases = match zone {
        "Europe/Berlin" => vec!["2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z"],
        "America/New_York" => vec!["2026-03-08T07:00:00Z", "2026-11-01T06:00:00Z"],
        // DST ends 2026-04-05 02:00 (+11) and starts 2026-10-04 02:00 (+10:30).
        "Australia/Lord_Howe" => vec!["2026-04-04T15:00:00Z", "2026-10-03T15:30:00Z"],
        _ => vec!["2026-12-31T16:00:00Z"],
    };
    bases.push("2028-02-28T20:00:00Z");
    bases
}

#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// Start at this milli-CU if stopped.
    Start(i64),
    Stop,
    /// Close the interval and open one at another milli-CU at the same instant.
    Rescale(i64),
    /// Stop, and start again at the same CU this many ms later.
    Restart(i64),
    /// The interval ends at the crash; restarted this many ms later, or never.
    Crash(Option<i64>),
}

#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    pub(crate) first_at: i64,
    pub(crate) initial_cu: Option<i64>,
    pub(crate) steps: Vec<(i64, Step)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Scenario {
    pub(crate) zone: &'static str,
    t0: DateTime<Utc>,
    /// Every instant of the scenario is a multiple of this many ms (1 ms, 1 s, 1 min).
    pub(crate) resolution: i64,
    pub(crate) deployments: Vec<Deployment>,
    /// `from - t0`, ms.
    pub(crate) from_offset: i64,
    /// `now - from`, ms.
    pub(crate) span: i64,
    /// Instants to check coverage at, as fractions of the span.
    pub(crate) samples: Vec<u64>,
}

impl Scenario {
    pub(crate) fn tz(&self) -> Tz {
        self.zone.parse().unwrap()
    }

    pub(crate) fn snap(&self, n: i64) -> i64 {
        n.div_euclid(self.resolution) * self.resolution
    }

    pub(crate) fn gap(&self, n: i64) -> i64 {
        self.snap(n).max(self.resolution)
    }

    pub(crate) fn from(&self) -> DateTime<Utc> {
        self.t0 + ms(self.snap(self.from_offset))
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.from() + ms(self.gap(self.span))
    }

    /// The run intervals the schedule records once it has played out completely
    /// (deployments still running at the end have `end: None`).
    pub(crate) fn intervals(&self) -> Vec<RunInterval> {
        let mut out = Vec::new();
        for d in &self.deployments {
            let mut t = self.t0 + ms(self.snap(d.first_at));
            let mut open = d.initial_cu.map(|cu| (t, cu));
            let mut close = |start: DateTime<Utc>, end: DateTime<Utc>, cu_milli: i64| {
                out.push(RunInterval {
                    start,
                    end: Some(end),
                    cu_milli,
                })
            };
            for (gap, step) in &d.steps {
                t += ms(self.gap(*gap));
                match *step {
                    Step::Start(cu) => {
                        if open.is_none() {
                            open = Some((t, cu));
                        }
                    }
                    Step::Stop => {
                        if let Some((s, cu)) = open.take() {
                            close(s, t, cu);
                        }
                    }
                    Step::Rescale(cu) => {
                        if let Some((s, old)) = open.take() {
                            close(s, t, old);
                            open = Some((t, if cu == old { old + 250 } else { cu }));
                        }
                    }
                    Step::Restart(delay) => {
                        if let Some((s, cu)) = open.take() {
                            close(s, t, cu);
                            t += ms(self.gap(delay));
                            open = Some((t, cu));
                        }
                    }
                    Step::Crash(restart) => {
                        if let Some((s, cu)) = open.take() {
                            close(s, t, cu);
                            if let Some(after) = restart {
                                t += ms(self.gap(after));
                                open = Some((t, cu));
                            }
                        }
                    }
                }
            }
            if let Some((start, cu_milli)) = open {
                out.push(RunInterval {
                    start,
                    end: None,
                    cu_milli,
                });
            }
        }
        out
    }
}

/// The intervals as recorded at `now`: what started by then, still running (`end:
/// None`) if it had not ended by then.
pub(crate) fn known_at(all: &[RunInterval], now: DateTime<Utc>) -> Vec<RunInterval> {
    all.iter()
        .filter(|i| i.start < now)
        .map(|i| RunInterval {
            end: i.end.filter(|e| *e <= now),
            ..*i
        })
        .collect()
}

pub(crate) fn cu_quarters() -> impl Strategy<Value = i64> {
    // A quarter of a CU up to 16 CU, in milli-CU.
    (1_i64..=64).prop_map(|q| q * 250)
}

pub(crate) fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        cu_quarters().prop_map(Step::Start),
        Just(Step::Stop),
        cu_quarters().prop_map(Step::Rescale),
        (1_000_i64..=30_000).prop_map(Step::Restart),
        prop::option::of(1_i64..=6 * HOUR_MS).prop_map(Step::Crash),
    ]
}

pub(crate) fn deployment() -> impl Strategy<Value = Deployment> {
    (
        0_i64..=12 * HOUR_MS,
        prop::option::weighted(0.8, cu_quarters()),
        prop::collection::vec(
            (
                prop_oneof![
                    1_i64..=2 * MINUTE_MS,
                    1_i64..=90 * MINUTE_MS,
                    1_i64..=8 * HOUR_MS
                ],
                step(),
            ),
            0..16,
        ),
    )
        .prop_map(|(first_at, initial_cu, steps)| Deployment {
            first_at,
            initial_cu,
            steps,
        })
}

pub(crate) fn scenario() -> impl Strategy<Value = Scenario> {
    prop::sample::select(ZONES.to_vec())
        .prop_flat_map(|zone| (Just(zone), prop::sample::select(bases(zone))))
        .prop_flat_map(|(zone, base)| {
            (
                Just(zone),
                Just(base),
                0_i64..=36 * HOUR_MS,
                prop::sample::select(vec![1_i64, 1_000, MINUTE_MS]),
                prop::collection::vec(deployment(), 1..=4),
                // From anywhere, or right around the base (inside a repeated or skipped
                // hour, where the first window must still begin at `from`).
                prop_oneof![
                    2 => (-6 * HOUR_MS..=24 * HOUR_MS).prop_map(|o| (o, false)),
                    1 => (-2 * HOUR_MS..=2 * HOUR_MS).prop_map(|o| (o, true)),
                ],
                prop_oneof![1_i64..=3 * HOUR_MS, 1_i64..=3 * DAY_MS],
                prop::collection::vec(any::<u64>(), 8),
            )
        })
        .prop_map(
            |(zone, base, offset, resolution, deployments, (from, near_base), span, samples)| {
                let t0 =
                    utc(base) - ms(36 * HOUR_MS) + ms(offset.div_euclid(resolution) * resolution);
                let from_offset = if near_base {
                    (utc(base) + ms(from) - t0).num_milliseconds()
                } else {
                    from
                };
                Scenario {
                    zone,
                    t0,
                    resolution,
                    deployments,
                    from_offset,
                    span,
                    samples,
                }
            },
        )
}
