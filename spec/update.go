package spec

import "time"

// The defaults of health checks and updates. They suit Windows: a Hyper-V
// container of servercore takes 15–20 s to start, so failures in its first
// 30 s do not count, and a rollout gets 5 minutes to become healthy.
const (
	DefaultHealthInterval    = 10 * time.Second
	DefaultHealthTimeout     = 5 * time.Second
	DefaultHealthRetries     = 3
	DefaultHealthStartPeriod = 30 * time.Second
	DefaultProgressDeadline  = 5 * time.Minute
)

// Std is d as a time.Duration; "" (unset) and anything that does not
// parse (validation refuses it) are 0.
func (d Duration) Std() time.Duration {
	v, err := time.ParseDuration(string(d))
	if err != nil {
		return 0
	}
	return v
}

// orDuration is d, or def when d is unset.
func orDuration(d Duration, def time.Duration) time.Duration {
	if d == "" {
		return def
	}
	return d.Std()
}

// Defined reports whether a health check is declared.
func (h Healthcheck) Defined() bool {
	return len(h.Exec) > 0 || h.TCP != 0 || h.HTTP != (HTTPCheck{})
}

// HealthTiming is a health check's timing with the defaults filled in.
type HealthTiming struct {
	Interval, Timeout, StartPeriod time.Duration
	Retries                        int
}

// Timing returns h's timing, defaults filled in.
func (h Healthcheck) Timing() HealthTiming {
	t := HealthTiming{
		Interval:    orDuration(h.Interval, DefaultHealthInterval),
		Timeout:     orDuration(h.Timeout, DefaultHealthTimeout),
		StartPeriod: orDuration(h.StartPeriod, DefaultHealthStartPeriod),
		Retries:     h.Retries,
	}
	if t.Retries == 0 {
		t.Retries = DefaultHealthRetries
	}
	return t
}

// StrategyOrDefault is u's strategy, recreate when unset.
func (u Update) StrategyOrDefault() UpdateStrategy {
	if u.Strategy == "" {
		return UpdateRecreate
	}
	return u.Strategy
}

// Deadline is how long a new container has to become healthy.
func (u Update) Deadline() time.Duration {
	return orDuration(u.ProgressDeadline, DefaultProgressDeadline)
}

// Rollback reports whether a failed rollout is rolled back (the default).
func (u Update) Rollback() bool { return u.AutoRollback == nil || *u.AutoRollback }

// ConditionOrDefault is d's condition, started when unset.
func (d Dependency) ConditionOrDefault() DependencyCondition {
	if d.Condition == "" {
		return ConditionStarted
	}
	return d.Condition
}
