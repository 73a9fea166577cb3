using System.Security.Cryptography;
using System.Text;
using Cairn.Core.Gateway;

namespace Cairn.Server.Gateway;

/// <summary>
/// The key the prompt playground uses to call Cairn's own gateway: made at start, held in memory only, never stored or
/// shown. Its calls are recorded in the request log under the key id <c>playground</c>, without limits or budgets.
/// </summary>
internal sealed class PlaygroundKey
{
    private readonly byte[] _hash;

    public PlaygroundKey()
    {
        Secret = VirtualKey.KeyPrefix + "playground-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        _hash = SHA256.HashData(Encoding.UTF8.GetBytes(Secret));
        Key = new VirtualKey { Id = "playground", Name = "Prompt playground", Prefix = VirtualKey.KeyPrefix + "playground", Hash = Convert.ToHexStringLower(_hash) };
    }

    /// <summary>The secret, for the playground's own requests.</summary>
    public string Secret { get; }

    /// <summary>The identity its calls are recorded under.</summary>
    public VirtualKey Key { get; }

    /// <summary>Whether <paramref name="presented"/> is this key (compared in constant time).</summary>
    public bool Matches(string presented) =>
        presented.Length == Secret.Length && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _hash);
}
