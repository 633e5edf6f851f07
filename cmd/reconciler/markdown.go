package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// markdownPlan is the part of the JSON plan (reconcile.WriteJSON) that the
// Markdown view shows. It is read back from the JSON document, so the
// Markdown says nothing the JSON plan does not.
type markdownPlan struct {
	DryRun bool `json:"dryRun"`
	Host   struct {
		Build            uint32 `json:"build"`
		Revision         uint32 `json:"revision"`
		SKU              string `json:"sku"`
		DefaultIsolation string `json:"defaultIsolation"`
	} `json:"host"`
	Actions []struct {
		Action     string `json:"action"`
		Name       string `json:"name"`
		Isolation  string `json:"isolation"`
		Image      string `json:"image"`
		Reason     string `json:"reason"`
		Source     string `json:"source"`
		Status     string `json:"status"`
		Error      string `json:"error"`
		HoldReason string `json:"holdReason"`
	} `json:"actions"`
	Unchanged []string `json:"unchanged"`
	Errors    []struct {
		Source  string `json:"source"`
		Line    int    `json:"line"`
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"errors"`
	Warnings []struct {
		Source  string `json:"source"`
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"warnings"`
	AutoIsolation []struct {
		Name      string `json:"name"`
		Isolation string `json:"isolation"`
		Reason    string `json:"reason"`
	} `json:"autoIsolation"`
}

// markdownMarks are the text output's marks of each action.
var markdownMarks = map[string]string{"create": "+", "recreate": "~", "remove": "-"}

// writeMarkdown renders a JSON plan (the document reconcile -o json prints)
// as GitHub-flavoured Markdown: a headline with the counts, a table of the
// actions, then errors, warnings, isolation auto decisions and the
// unchanged containers. It is what CI writes as a job summary.
func writeMarkdown(w io.Writer, doc []byte) error {
	var p markdownPlan
	if err := json.Unmarshal(doc, &p); err != nil {
		return fmt.Errorf("read the JSON plan: %w", err)
	}
	var b strings.Builder
	b.WriteString("### reconciler: " + markdownHeadline(p) + "\n\n")
	fmt.Fprintf(&b, "Host: build %d.%d, %s, default isolation %s", p.Host.Build, p.Host.Revision, p.Host.SKU, p.Host.DefaultIsolation)
	if p.DryRun {
		b.WriteString(" (dry run: nothing was changed)")
	}
	b.WriteString(".\n")
	if len(p.Actions) > 0 {
		b.WriteString("\n| | container | action | isolation | image | reason | status |\n|---|---|---|---|---|---|---|\n")
		for _, a := range p.Actions {
			status := a.Status
			switch {
			case a.Error != "":
				status += ": " + a.Error
			case a.HoldReason != "":
				status += ": " + a.HoldReason
			}
			reason := a.Reason
			if a.Source != "" {
				reason += " (" + a.Source + ")"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", markdownMarks[a.Action], mdText(a.Name), a.Action,
				a.Isolation, mdCode(a.Image), mdText(reason), mdText(status))
		}
	}
	if len(p.Errors) > 0 {
		fmt.Fprintf(&b, "\n**Errors (%d)**\n\n", len(p.Errors))
		for _, e := range p.Errors {
			fmt.Fprintf(&b, "- %s%s\n", mdWhere(e.Source, e.Line, e.Name), mdText(e.Message))
		}
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintf(&b, "\n**Warnings (%d)**\n\n", len(p.Warnings))
		for _, e := range p.Warnings {
			fmt.Fprintf(&b, "- %s%s\n", mdWhere(e.Source, 0, e.Name), mdText(e.Message))
		}
	}
	if len(p.AutoIsolation) > 0 {
		b.WriteString("\n**isolation: auto**\n\n")
		for _, a := range p.AutoIsolation {
			fmt.Fprintf(&b, "- %s → %s: %s\n", mdText(a.Name), a.Isolation, mdText(a.Reason))
		}
	}
	if len(p.Unchanged) > 0 {
		names := make([]string, len(p.Unchanged))
		for i, n := range p.Unchanged {
			names[i] = mdText(n)
		}
		fmt.Fprintf(&b, "\nUnchanged (%d): %s\n", len(names), strings.Join(names, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// markdownHeadline counts the plan as the text output's summary line does.
func markdownHeadline(p markdownPlan) string {
	count := map[string]int{}
	for _, a := range p.Actions {
		switch a.Status {
		case "held", "failed":
			count[a.Status]++
		default:
			count[a.Action]++
		}
	}
	var s string
	if p.DryRun {
		s = fmt.Sprintf("%d to create, %d to recreate, %d to remove", count["create"], count["recreate"], count["remove"])
	} else {
		s = fmt.Sprintf("%d created, %d recreated, %d removed, %d failed", count["create"], count["recreate"], count["remove"], count["failed"])
	}
	if count["held"] > 0 {
		s += fmt.Sprintf(", %d held", count["held"])
	}
	return s + fmt.Sprintf(", %d unchanged; %d error(s), %d warning(s)", len(p.Unchanged), len(p.Errors), len(p.Warnings))
}

// mdWhere is "`file:line` name: " for a problem's list item.
func mdWhere(source string, line int, name string) string {
	var s string
	if source != "" {
		if line > 0 {
			source += fmt.Sprintf(":%d", line)
		}
		s = mdCode(source) + " "
	}
	if name != "" {
		s += mdText(name) + ": "
	}
	return s
}

// mdText escapes what Markdown or the HTML a job summary allows would
// read as markup in text taken from manifests.
var mdText = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;", "|", `\|`, "\r", " ", "\n", " ",
).Replace

// mdCode is s as inline code: backticks in s lengthen the fence, a pipe
// is escaped for the table around it.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer("|", `\|`, "\r", " ", "\n", " ").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}
