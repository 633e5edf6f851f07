package statusapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// RequestSuspension asks the agent whose API is at base (NewClient) to
// suspend (for reason) or to resume, and returns the state in force.
func RequestSuspension(ctx context.Context, client *http.Client, base string, suspend bool, reason string) (SuspensionState, error) {
	path, body := ResumePath, []byte("{}")
	if suspend {
		path = SuspendPath
		var err error
		if body, err = json.Marshal(suspendRequest{Reason: reason}); err != nil {
			return SuspensionState{}, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		return SuspensionState{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return SuspensionState{}, fmt.Errorf("ask the agent: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSuspendBody))
	if err != nil {
		return SuspensionState{}, fmt.Errorf("ask the agent: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var ans errorAnswer
		if json.Unmarshal(data, &ans) != nil || ans.Error == "" {
			ans.Error = "not an agent's answer (is --agent the agent's --listen, and does it run with this version?)"
		}
		return SuspensionState{}, fmt.Errorf("the agent refused (%s): %s", resp.Status, ans.Error)
	}
	var st SuspensionState
	if err := json.Unmarshal(data, &st); err != nil {
		return SuspensionState{}, fmt.Errorf("the agent answered %s, not a suspension state: %w", resp.Status, err)
	}
	return st, nil
}
