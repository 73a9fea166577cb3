using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Cairn.Server.Gateway;

[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonNode))]
internal sealed partial class GatewayNodeJsonContext : JsonSerializerContext;
