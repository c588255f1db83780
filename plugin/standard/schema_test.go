package standard

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/treue/treue/models"
)

// TestSchemaMatchesModel keeps event.schema.json true to models.Event: the same
// event types, and the same property names in every part of data.
func TestSchemaMatchesModel(t *testing.T) {
	b, err := os.ReadFile("event.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties struct {
			Type struct {
				Enum []string `json:"enum"`
			} `json:"type"`
			Data struct {
				Properties map[string]struct {
					Properties map[string]any `json:"properties"`
				} `json:"properties"`
			} `json:"data"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, et := range models.EventTypes {
		want = append(want, string(et))
	}
	if !slices.Equal(s.Properties.Type.Enum, want) {
		t.Errorf("schema types %v\nmodel types %v", s.Properties.Type.Enum, want)
	}
	dt := reflect.TypeOf(models.EventData{})
	for i := 0; i < dt.NumField(); i++ {
		f := dt.Field(i)
		name := jsonName(f)
		part, ok := s.Properties.Data.Properties[name]
		if !ok {
			t.Errorf("schema lacks data.%s", name)
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		for j := 0; j < ft.NumField(); j++ {
			if n := jsonName(ft.Field(j)); part.Properties[n] == nil {
				t.Errorf("schema lacks data.%s.%s", name, n)
			}
		}
		if len(part.Properties) != ft.NumField() {
			t.Errorf("data.%s: schema has %d properties, model %d", name, len(part.Properties), ft.NumField())
		}
	}
}

func jsonName(f reflect.StructField) string {
	n, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return n
}
