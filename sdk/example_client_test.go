package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/hookgate/hookgate/sdk"
)

// A partner retries every delivery that failed in the last day.
func ExampleClient_Deliveries() {
	ctx := context.Background()
	client := sdk.NewClient("https://hookgate.example.com", os.Getenv("HOOKGATE_API_KEY"))
	for d, err := range client.Deliveries(ctx, sdk.DeliveryListParams{
		Status: sdk.DeliveryFailed,
		Since:  time.Now().Add(-24 * time.Hour),
	}) {
		if err != nil {
			log.Fatal(err)
		}
		if _, err := client.RetryDelivery(ctx, d.ID); err != nil {
			log.Printf("retry %s: %v", d.ID, err)
		}
	}
}

// Errors are *sdk.APIError values; branch on them with errors.Is.
func ExampleAPIError() {
	ctx := context.Background()
	client := sdk.NewClient("https://hookgate.example.com", os.Getenv("HOOKGATE_API_KEY"))
	_, err := client.GetEndpoint(ctx, "ep_01JD0000000000000000000000")
	var ae *sdk.APIError
	switch {
	case err == nil:
	case errors.Is(err, sdk.ErrNotFound):
		fmt.Println("no such endpoint")
	case errors.As(err, &ae):
		fmt.Printf("hookgate said %d: %s (request %s)\n", ae.Status, ae.Detail, ae.RequestID)
	default:
		fmt.Println("network trouble:", err)
	}
}

// Publishing an event with an idempotency key makes the call safe to
// retry, and a repeat is answered as a duplicate.
func ExampleClient_CreateEvent() {
	ctx := context.Background()
	client := sdk.NewClient("https://hookgate.example.com", os.Getenv("HOOKGATE_SOURCE_TOKEN"))
	res, err := client.CreateEvent(ctx, sdk.EventInput{
		Type:           "order.confirmed",
		Data:           map[string]any{"id": 1287, "name": "S01287", "state": "sale", "amount_total": 149.9},
		IdempotencyKey: "sale.order-1287-confirmed",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.ID, res.Duplicate)
}

// An admin exports the failed deliveries of an endpoint as CSV.
func ExampleClient_ExportDeliveries() {
	ctx := context.Background()
	client := sdk.NewClient("https://hookgate.example.com", os.Getenv("HOOKGATE_API_KEY"))
	rc, err := client.ExportDeliveries(ctx, sdk.DeliveryListParams{Status: sdk.DeliveryFailed}, sdk.ExportCSV)
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.Copy(os.Stdout, rc); err != nil {
		log.Fatal(err)
	}
}

// Logging in as a person, then working with the session's access token.
func ExampleClient_Login() {
	ctx := context.Background()
	anon := sdk.NewClient("https://hookgate.example.com", "")
	tok, err := anon.Login(ctx, "ops@acme.example", os.Getenv("HOOKGATE_PASSWORD"))
	if errors.Is(err, sdk.ErrInvalidCredentials) {
		log.Fatal("wrong e-mail or password")
	} else if err != nil {
		log.Fatal(err)
	}
	client := anon.WithToken(tok.AccessToken)
	me, err := client.Me(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(me.Name, me.Status)
}
