package parser

// examples are the documented queries of the notes on ExecuteQuery (§7):
// the AWS docs, AWS samples and iot-app-kit. Example 9 holds two queries;
// example 10 lists WHERE clauses, each completed here into a whole query
// over (e), e.components AS c, c.properties AS p.
var examples = []struct{ name, query string }{
	{"01_node_by_name", `SELECT entity FROM EntityGraph MATCH (entity) WHERE entity.entityName = 'room_0'`},
	{"02_edges_by_name", `SELECT r FROM EntityGraph MATCH (e1)-[r]->(e2) WHERE r.relationshipName = 'isLocationOf'`},
	{"03_labelled_neighbours", `SELECT e2.entityName FROM EntityGraph MATCH (e1)-[:isLocationOf]->(e2) WHERE e1.entityName = 'room_0'`},
	{"04_variable_length", `SELECT e2 FROM EntityGraph MATCH (e1)-[]->{1,5}(e2) WHERE e1.entityId = 'zzz'`},
	{"05_count_descendants", `SELECT COUNT(e) FROM EntityGraph MATCH (e)-[:isChildOf]->{1,10}(p) WHERE p.entityId = 'FLOOR_1'`},
	{"06_unnest_filter", "SELECT e FROM EntityGraph MATCH (e), e.components AS c, c.properties AS p\n" +
		"WHERE c.componentTypeId = 'com.example.query.construction.room' AND p.propertyName = 'roomFunction' AND p.propertyValue = 'meeting'"},
	{"07_chain_like", "SELECT floor.entityName AS floorName, luminaire.entityName AS luminaireName\n" +
		"FROM EntityGraph MATCH (floor)-[:isLocationOf]-(room)-[:hasPart]-(lightingZone)-[:feed]-(luminaire)\n" +
		"WHERE floor.entityName = 'floor_0' AND luminaire.entityName LIKE 'lumin%'"},
	{"08_flat_properties", `SELECT e.entityId, c.componentName, p.propertyName, p.propertyValue FROM EntityGraph MATCH (e), e.components AS c, c.properties AS p WHERE e.entityId = 'xxx'`},
	{"09a_distinct", `SELECT DISTINCT c.componentTypeId FROM EntityGraph MATCH (e), e.components AS c`},
	{"09b_count", `SELECT COUNT(e), COUNT(c.componentTypeId) FROM EntityGraph MATCH (e), e.components AS c`},
	{"10a_definition_config", propertyQuery + `WHERE p.definition.configuration.unit = 'Celsius'`},
	{"10b_map_key", propertyQuery + `WHERE p.propertyValue.length = 20.0`},
	{"10c_list_membership", propertyQuery + `WHERE 10.0 IN p.propertyValue`},
	{"10d_not_missing", propertyQuery + `WHERE NOT p.propertyValue.length IS MISSING`},
	{"10e_lower", propertyQuery + `WHERE lower(p.propertyValue) = 'meeting'`},
	{"10f_like_escape", propertyQuery + `WHERE e.entityName LIKE 'room\%' ESCAPE '\'`},
	{"11_path", `SELECT p FROM EntityGraph MATCH p = (a)-[]->{1, 3}(b)`},
	{"12_reverse_edge", "SELECT e2 FROM EntityGraph MATCH (e)<-[:contains]-(e2), e.components AS c, c.properties AS p\n" +
		"WHERE c.componentTypeId = 'sitewise' AND p.propertyName = 'assetId' AND p.propertyValue = 'ccc'"},
	{"13_paging", `SELECT e.entityName FROM EntityGraph MATCH (e) WHERE e.entityName LIKE 'room_%' LIMIT 10 OFFSET 5`},
	{"14_or_ids", `SELECT entity FROM EntityGraph MATCH (entity) WHERE entity.entityId = 'a' OR entity.entityId = 'b'`},
}

const propertyQuery = "SELECT e, p FROM EntityGraph MATCH (e), e.components AS c, c.properties AS p\n"
