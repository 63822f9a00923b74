package catalog

import (
	"strings"

	"github.com/twinvault/twinvault/model"
)

// reservedPrefix is the namespace of TwinMaker's own component types.
// Clients cannot create types in it; the ones TwinMaker puts in every
// workspace are served from builtinTypes.
const reservedPrefix = "com.amazon."

func isReserved(id string) bool { return strings.HasPrefix(id, reservedPrefix) }

func isBuiltin(id string) bool { _, ok := builtinTypes[id]; return ok }

func str(t model.Type) *model.DataType { return &model.DataType{Type: t} }

func strValues(vs ...string) []model.DataValue {
	out := make([]model.DataValue, len(vs))
	for i, v := range vs {
		out[i] = model.DataValue{StringValue: model.String(v)}
	}
	return out
}

// builtinTypes are the component types TwinMaker puts in every workspace.
// The data connectors of SiteWise and Kinesis Video Streams are services
// this server cannot reach, so their types carry externally stored
// properties without a reader: abstract, to be extended with a connector.
var builtinTypes = map[string]*componentType{}

func init() {
	t := model.Bool(true)
	add := func(ct *componentType) {
		ct.builtin = true
		builtinTypes[ct.ID] = ct
	}
	add(&componentType{
		ID:          "com.amazon.iottwinmaker.documents",
		Description: model.String("Links to documents: a map from title to URL"),
		PropertyDefinitions: map[string]model.PropertyDefinitionRequest{
			"documents": {DataType: &model.DataType{Type: model.TypeMap, NestedType: str(model.TypeString)}},
		},
	})
	add(&componentType{
		ID:          "com.amazon.iottwinmaker.parameters",
		Description: model.String("Static parameters: the entity defines its own properties"),
	})
	add(&componentType{
		ID:          "com.amazon.iottwinmaker.alarm.basic",
		Description: model.String("Abstract alarm: extend it with a data reader that returns alarm_status"),
		PropertyDefinitions: map[string]model.PropertyDefinitionRequest{
			"alarm_key": {DataType: str(model.TypeString), IsExternalId: t, IsRequiredInEntity: t},
			"alarm_status": {
				DataType:           &model.DataType{Type: model.TypeString, AllowedValues: strValues("ACTIVE", "SNOOZE_DISABLED", "ACKNOWLEDGED", "NORMAL")},
				IsStoredExternally: t,
				IsTimeSeries:       t,
			},
		},
	})
	add(&componentType{
		ID:          "com.amazon.iotsitewise.connector",
		Description: model.String("AWS IoT SiteWise asset properties (abstract: SiteWise is not reachable from this server)"),
		PropertyDefinitions: map[string]model.PropertyDefinitionRequest{
			"sitewiseAssetId":      {DataType: str(model.TypeString), IsExternalId: t, IsRequiredInEntity: t},
			"sitewiseAssetModelId": {DataType: str(model.TypeString), IsRequiredInEntity: t},
			"sitewiseProperties":   {DataType: str(model.TypeString), IsStoredExternally: t, IsTimeSeries: t},
		},
	})
	add(&componentType{
		ID:          "com.amazon.kvs.video",
		Description: model.String("Kinesis Video Streams video (abstract: Kinesis Video Streams is not reachable from this server)"),
		PropertyDefinitions: map[string]model.PropertyDefinitionRequest{
			"kvsStreamName": {DataType: str(model.TypeString), IsRequiredInEntity: t},
			"videoUploaderStatus": {
				DataType:           str(model.TypeString),
				IsStoredExternally: t,
				IsTimeSeries:       t,
			},
		},
	})
	add(&componentType{
		ID:          "com.amazon.iotsitewise.connector.edgevideo",
		Description: model.String("Edge video through AWS IoT Greengrass (abstract: Greengrass is not reachable from this server)"),
		ExtendsFrom: []string{"com.amazon.kvs.video"},
		PropertyDefinitions: map[string]model.PropertyDefinitionRequest{
			"edgeVideoServerStatus": {DataType: str(model.TypeString), IsStoredExternally: t, IsTimeSeries: t},
		},
	})
}
