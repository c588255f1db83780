package plugin

import (
	"errors"
	"strings"
	"testing"

	"github.com/treue/treue/models"
)

func TestDecodeJSON(t *testing.T) {
	var v struct {
		ID int64 `json:"id"`
	}
	if err := DecodeJSON("shopify", []byte(`{"id":7}`), &v); err != nil || v.ID != 7 {
		t.Fatalf("%v %+v", err, v)
	}
	var me *models.MalformedError
	if err := DecodeJSON("adobe", []byte(`{"id":`), &v); !errors.As(err, &me) || !strings.HasPrefix(me.Error(), "malformed body: adobe: ") {
		t.Fatalf("broken JSON: %v", err)
	}
	var ve *models.ValidationError
	if err := DecodeJSON("shopify", []byte(`{"id":"7"}`), &v); !errors.As(err, &ve) || len(ve.Fields) != 1 ||
		ve.Fields[0].Field != "id" || ve.Fields[0].Message != "has the wrong JSON type (string)" {
		t.Fatalf("wrong type: %v", err)
	}
}
