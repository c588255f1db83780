package shopware

import (
	"encoding/xml"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestResources keeps the app's declarations and the connector in step: the
// flow triggers it fires exist, and the custom fields it writes are declared
// in both places Shopware reads them from. (Schema validation: see README.)
func TestResources(t *testing.T) {
	var flow struct {
		Events []struct {
			Name  string   `xml:"name"`
			Aware []string `xml:"aware"`
		} `xml:"flow-events>flow-event"`
	}
	mustXML(t, "Resources/flow.xml", &flow)
	declared := map[string]bool{}
	for _, e := range flow.Events {
		declared[e.Name] = true
		if !slices.Contains(e.Aware, "customerAware") {
			t.Errorf("flow event %s is not customerAware", e.Name)
		}
	}
	for _, name := range []string{eventReorderDue, eventReviewRequest, "treue.notify"} {
		if !declared[name] {
			t.Errorf("flow event %s is not declared in Resources/flow.xml", name)
		}
	}

	type fieldSet struct {
		Name   string `xml:"name"`
		Fields struct {
			Int []struct {
				Name string `xml:"name,attr"`
			} `xml:"int"`
			Text []struct {
				Name string `xml:"name,attr"`
			} `xml:"text"`
		} `xml:"fields"`
	}
	names := func(s fieldSet) []string {
		var out []string
		for _, f := range s.Fields.Int {
			out = append(out, f.Name)
		}
		for _, f := range s.Fields.Text {
			out = append(out, f.Name)
		}
		slices.Sort(out)
		return out
	}
	var file struct {
		Sets []fieldSet `xml:"custom-field-set"`
	}
	mustXML(t, "Resources/config/custom-fields.xml", &file)
	var manifest struct {
		Sets []fieldSet `xml:"custom-fields>custom-field-set"`
	}
	mustXML(t, "manifest.xml", &manifest)
	if len(file.Sets) != 1 || len(manifest.Sets) != 1 {
		t.Fatalf("custom field sets: %d in custom-fields.xml, %d in manifest.xml", len(file.Sets), len(manifest.Sets))
	}
	want := []string{fieldPointsBalance, fieldSampleProductID, fieldSampleSKU, fieldTier}
	slices.Sort(want)
	for where, got := range map[string][]string{"custom-fields.xml": names(file.Sets[0]), "manifest.xml": names(manifest.Sets[0])} {
		if !slices.Equal(got, want) {
			t.Errorf("%s declares %v, the connector writes %v", where, got, want)
		}
	}

	script, err := os.ReadFile("Resources/scripts/cart/treue-sample-gift.twig")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), "customFields."+fieldSampleProductID) {
		t.Errorf("the cart script does not read %s", fieldSampleProductID)
	}
}

func mustXML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
