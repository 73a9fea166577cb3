namespace Cairn.Core.Tracking;

/// <summary>Generates readable run names in MLflow's style, such as <c>placid-crab-230</c>.</summary>
public static class RunNameGenerator
{
    private static readonly string[] s_adjectives =
    [
        "abundant", "able", "adorable", "agreeable", "amazing", "ambitious", "amusing", "auspicious", "awesome", "bald",
        "beautiful", "bemused", "bedecked", "big", "bittersweet", "blushing", "bold", "bouncy", "brawny", "bright", "burly",
        "bustling", "calm", "capable", "carefree", "capricious", "caring", "casual", "charming", "chill", "classy", "clean",
        "clumsy", "colorful", "crawling", "dapper", "debonair", "dashing", "defiant", "delicate", "delightful", "dazzling",
        "efficient", "enchanting", "entertaining", "enthused", "exultant", "fearless", "flawless", "fortunate", "fun",
        "funny", "gaudy", "gentle", "gifted", "glamorous", "grandiose", "gregarious", "handsome", "hilarious", "honorable",
        "illustrious", "incongruous", "indecisive", "industrious", "intelligent", "inquisitive", "intrigued", "invincible",
        "judicious", "kindly", "languid", "learned", "legendary", "likeable", "loud", "luminous", "luxuriant", "lyrical",
        "magnificent", "marvelous", "masked", "melodic", "merciful", "mercurial", "monumental", "mysterious", "nebulous",
        "nervous", "nimble", "nosy", "omniscient", "orderly", "overjoyed", "peaceful", "painted", "persistent", "placid",
        "polite", "popular", "powerful", "puzzled", "rambunctious", "rare", "rebellious", "respected", "resilient",
        "righteous", "receptive", "redolent", "resilient", "rogue", "rumbling", "salty", "sassy", "secretive", "selective",
        "sedate", "serious", "shivering", "skillful", "sincere", "skittish", "silent", "smiling", "sneaky", "sophisticated",
        "spiffy", "stately", "suave", "stylish", "tasteful", "thoughtful", "thundering", "traveling", "treasured",
        "trusting", "unequaled", "upbeat", "unique", "unleashed", "useful", "upset", "valuable", "vaunted", "victorious",
        "welcoming", "whimsical", "wise", "worried", "youthful", "zealous",
    ];

    private static readonly string[] s_nouns =
    [
        "ant", "ape", "asp", "auk", "bass", "bat", "bear", "bee", "bird", "boar", "bug", "calf", "carp", "cat", "chimp", "cod",
        "colt", "conch", "cow", "crab", "crane", "croc", "crow", "cub", "deer", "doe", "dog", "dolphin", "donkey", "dove",
        "duck", "eel", "elk", "fawn", "finch", "fish", "flea", "fly", "foal", "fowl", "fox", "frog", "gnat", "gnu", "goat",
        "goose", "grouse", "grub", "gull", "hare", "hawk", "hen", "hog", "horse", "hound", "jay", "kit", "kite", "koi", "lamb",
        "lark", "loon", "lynx", "mare", "midge", "mink", "mole", "moose", "moth", "mouse", "mule", "newt", "owl", "ox",
        "panda", "penguin", "perch", "pig", "pug", "quail", "ram", "rat", "ray", "robin", "roo", "rook", "seal", "shad",
        "shark", "sheep", "shoat", "shrew", "shrike", "shrimp", "skink", "skunk", "sloth", "slug", "smelt", "snail", "snake",
        "snipe", "sow", "sponge", "squid", "squirrel", "stag", "steed", "stoat", "stork", "swan", "tern", "toad", "trout",
        "turtle", "vole", "wasp", "whale", "wolf", "worm", "wren", "yak", "zebra",
    ];

    /// <summary>Returns a new name of the form <c>adjective-noun-number</c>.</summary>
    public static string Generate() =>
        $"{s_adjectives[Random.Shared.Next(s_adjectives.Length)]}-{s_nouns[Random.Shared.Next(s_nouns.Length)]}-{Random.Shared.Next(1000)}";
}
