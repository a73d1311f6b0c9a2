package sdk

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
)

// Page is one page of a list. NextCursor is empty on the last page; pass
// it as the Cursor of the next call to get the following page, or use the
// iterator methods (Deliveries, Endpoints, …), which do so for you.
type Page[T any] struct {
	// Data holds this page's items.
	Data []T `json:"data"`
	// NextCursor continues the list; "" when there is no more.
	NextCursor string `json:"next_cursor"`
}

// ListParams pages through a list: Limit items per page (1–200; 0 uses the
// server's default of 50), starting at Cursor ("" for the first page).
type ListParams struct {
	// Limit is the page size.
	Limit int
	// Cursor is a Page.NextCursor from the previous call.
	Cursor string
}

// values encodes the page parameters.
func (p ListParams) values() url.Values {
	q := url.Values{}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	return q
}

// errCursorLoop stops an iterator whose server keeps answering the same
// cursor, instead of looping forever.
var errCursorLoop = errors.New("the server returned the same cursor twice")

// all iterates over every item of a list, fetching page after page
// starting at cursor. On an error it yields the error once and stops.
// Breaking out of the loop stops fetching.
func all[T any](ctx context.Context, cursor string, fetch func(ctx context.Context, cursor string) (Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			page, err := fetch(ctx, cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range page.Data {
				if !yield(item, nil) {
					return
				}
			}
			if page.NextCursor == "" {
				return
			}
			if page.NextCursor == cursor {
				var zero T
				yield(zero, fmt.Errorf("sdk: list: %w: %q", errCursorLoop, cursor))
				return
			}
			cursor = page.NextCursor
		}
	}
}

// list is the wire form of an unpaginated list answer.
type list[T any] struct {
	Data []T `json:"data"`
}
