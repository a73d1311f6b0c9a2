package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/hookgate/hookgate/internal/bench"
)

func runBench(args []string, stdout, stderr io.Writer) error {
	o := bench.Defaults()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.Events, "events", o.Events, "events in the throughput scenario (1 endpoint)")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "concurrent ingest clients in the throughput scenario")
	fs.IntVar(&o.Rate, "rate", o.Rate, "events per second in the fixed-rate latency scenario")
	fs.DurationVar(&o.RateFor, "rate-for", o.RateFor, "duration of the fixed-rate scenario")
	fs.IntVar(&o.Fanout, "fanout", o.Fanout, "endpoints in the fan-out scenario")
	fs.IntVar(&o.FanoutRuns, "fanout-runs", o.FanoutRuns, "events in the fan-out scenario")
	fs.IntVar(&o.MixedEvents, "mixed-events", o.MixedEvents, "events in the mixed scenario (10 partners, one slow)")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hookgate bench [flags]\n\nRuns the end-to-end benchmark against DATABASE_URL (SQLite under HOOKGATE_DATA_DIR/bench when unset) and REDIS_URL.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !*asJSON {
		o.Log = stdout
	} else {
		o.Log = stderr
	}
	res, err := bench.Run(ctx, o)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "\n%-34s %10.0f\n", "ingest requests/s", res.IngestRPS)
	fmt.Fprintf(stdout, "%-34s %10.1f / %.1f\n", "ingest latency p50 / p99 (ms)", res.IngestP50ms, res.IngestP99ms)
	fmt.Fprintf(stdout, "%-34s %10.0f\n", "delivered webhooks/s", res.DeliveredPerS)
	fmt.Fprintf(stdout, "%-34s %10.0f\n", "baseline delivered/s (asynq+HTTP)", res.BaselineDeliveredPerS)
	fmt.Fprintf(stdout, "%-34s %10.2f\n", "gateway / baseline", res.Ratio)
	fmt.Fprintf(stdout, "%-34s %10.1f / %.1f\n", "end-to-end p50 / p99 (ms)", res.E2EP50ms, res.E2EP99ms)
	fmt.Fprintf(stdout, "%-34s %10.1f / %.1f  at %d/s\n", "steady ingest p50 / p99 (ms)", res.SteadyIngestP50ms, res.SteadyIngestP99ms, res.SteadyRate)
	fmt.Fprintf(stdout, "%-34s %10.1f / %.1f  at %d/s\n", "steady end-to-end p50 / p99 (ms)", res.SteadyE2EP50ms, res.SteadyE2EP99ms, res.SteadyRate)
	fmt.Fprintf(stdout, "%-34s %10.1f / %.1f  (%d endpoints)\n", "fan-out complete p50 / max (ms)", res.FanoutCompleteP50ms, res.FanoutCompleteMaxms, res.FanoutEndpoints)
	fmt.Fprintf(stdout, "%-34s %10.1f  (slow partner got %d)\n", "mixed: fast partners e2e p99 (ms)", res.MixedFastE2EP99ms, res.MixedSlowDelivered)
	fmt.Fprintf(stdout, "%-34s %10.1f\n", "peak RSS (MiB)", res.PeakRSSMiB)
	fmt.Fprintf(stdout, "%-34s %10.1f\n", "run time (s)", res.DurationS)
	return nil
}
