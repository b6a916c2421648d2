"""English texts of the sample, written for this project: long articles, short notices that
drown in boilerplate, forum comments and thin pages."""

from __future__ import annotations

ARTICLES: list[dict] = [
    {
        "slug": "keeping-a-sourdough-starter-alive",
        "title": "Keeping a Sourdough Starter Alive Through a Busy Month",
        "paragraphs": [
            "A sourdough starter is less fragile than its reputation suggests. It is a mixture of flour and "
            "water in which wild yeasts and lactic acid bacteria have settled into a stable partnership, and "
            "that partnership survives a surprising amount of neglect. The trouble usually begins when a "
            "baker treats the starter like a pet that needs daily attention, burns out after two weeks, and "
            "then abandons the jar at the back of the refrigerator.",
            "The simplest routine is to keep a small amount. Twenty grams of starter fed with twenty grams of "
            "flour and twenty grams of water is enough to keep the culture healthy, and it produces little "
            "waste. When you plan to bake, you build a larger levain the evening before from a spoonful of "
            "the small starter. The jar on the counter never has to grow, and the discarded portion stays "
            "small enough that you do not feel guilty about it.",
            "Temperature matters more than the brand of flour. At a warm kitchen temperature a starter peaks "
            "four to six hours after feeding; in a cool room it may take twelve. If your schedule is "
            "irregular, use the refrigerator deliberately. Feed the starter, let it sit out for an hour so "
            "the yeasts wake up, and then chill it. A starter kept cold can go a week or more between "
            "feedings and will recover after one or two warm feeds.",
            "Watch the smell and the surface rather than the calendar. A layer of grey liquid on top, often "
            "called hooch, means the culture is hungry, not dead. Pour it off or stir it back in, and feed "
            "as usual. A pink or orange tint, or fuzzy spots, are different: those are signs of "
            "contamination, and the safest course is to start again from a clean jar and a spoonful of "
            "healthy starter borrowed from a friend or kept dried in a paper envelope.",
            "Drying is the insurance policy that most home bakers forget. Spread a thin layer of active "
            "starter on baking paper, let it dry completely at room temperature, and break it into flakes. "
            "Stored in an airtight container, those flakes keep for months. When a holiday or a busy month "
            "gets in the way, you lose nothing: a teaspoon of flakes soaked in water and fed for three days "
            "will bring the culture back to full strength.",
            "None of this requires special equipment. A glass jar, a kitchen scale and a rubber band around "
            "the jar to mark the level after feeding are enough to tell you how active the culture is. The "
            "band makes the rise visible at a glance, and after a few weeks you will know your starter well "
            "enough to plan a bake around it instead of the other way round.",
        ],
    },
    {
        "slug": "a-balcony-vegetable-garden",
        "title": "Planning a Small Vegetable Garden on a Balcony",
        "paragraphs": [
            "A balcony of two square metres can produce a steady supply of salad leaves, herbs and a few "
            "tomatoes from early summer until the first cold nights. The limiting factor is rarely space; it "
            "is light. Before buying a single pot, spend a day noting when the sun reaches the balcony and "
            "when it leaves. Six hours of direct light is enough for tomatoes and beans, while lettuce, "
            "spinach and most herbs are content with four.",
            "Containers should be as large as the railing and the landlord allow. Small pots dry out within "
            "hours on a hot afternoon, and plants that are repeatedly stressed by drought turn bitter or "
            "stop flowering. A trough forty centimetres deep holds enough water for a day of heat and gives "
            "roots room to spread. Light-coloured containers stay cooler than black plastic, which matters "
            "more than most beginners expect.",
            "Use fresh potting compost rather than soil dug from a park or a garden. Garden soil compacts in "
            "containers, drains poorly and may carry pests. A good compost mixed with a handful of slow "
            "release fertiliser will carry most crops through the season; tomatoes and peppers benefit from "
            "an additional liquid feed once a week once the first fruits appear.",
            "Choose varieties bred for small spaces. Bush tomatoes, dwarf French beans, cut-and-come-again "
            "lettuce mixes and compact courgettes all exist precisely because many gardeners have little "
            "room. Climbing beans and cucumbers can make use of the vertical space along a wall or railing, "
            "as long as the supports are tied firmly enough to survive the wind that funnels between "
            "buildings.",
            "Watering is the daily task that decides success. In midsummer a balcony garden may need water "
            "every morning, and on the hottest days again in the evening. A simple drip system fed by a "
            "reservoir bottle, or self-watering containers with a water chamber in the base, make short "
            "trips away possible. Grouping pots together also helps, because the plants shade each other's "
            "containers and the air between them stays a little more humid.",
            "Finally, keep notes. Write down what you sowed, when, and how it did. The second year on the "
            "same balcony is always better than the first, because the microclimate of a particular corner "
            "of a particular building is something no book can describe for you.",
        ],
    },
    {
        "slug": "why-night-trains-are-back",
        "title": "Why Night Trains Are Returning to the Timetable",
        "paragraphs": [
            "For decades the sleeper train looked like a relic. Cheap flights were faster on paper, rolling "
            "stock was old, and operators cut one overnight route after another. In recent years the trend "
            "has reversed, and travellers can again fall asleep in one capital and wake up in another. The "
            "reasons are partly environmental, but they are also practical.",
            "A night train turns travel time into sleeping time. A journey of twelve hours sounds long, yet "
            "if it leaves after dinner and arrives after breakfast it costs the traveller almost nothing "
            "from the working day. Compared with a flight that requires an early start, a trip to the "
            "airport, security checks and a transfer into the city at the other end, the door-to-door time "
            "is often similar.",
            "Comfort has improved as well. Newer carriages offer compartments with locking doors, small "
            "washbasins and power sockets, and some have capsules for solo travellers who do not want to "
            "share a cabin with strangers. The couchette, with its six narrow berths, still exists and "
            "remains the cheapest way to travel, but it is no longer the only option.",
            "The economics remain difficult. A sleeper carriage carries far fewer passengers than a day "
            "coach, it is used once per day instead of several times, and track access charges are levied "
            "in every country along the route. Many services survive only because several railways share "
            "the costs, or because governments treat them as part of a wider climate policy.",
            "For passengers the lesson is to book early and to be flexible. Popular routes sell out weeks in "
            "advance during holidays, and prices rise as the train fills. Travelling midweek, accepting a "
            "couchette instead of a private compartment, or combining a night train with a short day "
            "connection can make the difference between an expensive adventure and an affordable one.",
        ],
    },
    {
        "slug": "bicycle-maintenance-for-beginners",
        "title": "A Beginner's Guide to Looking After a Bicycle",
        "paragraphs": [
            "Most bicycle repairs that send people to a workshop could be avoided with ten minutes of care "
            "each month. A bicycle is a simple machine, and the parts that wear out do so slowly and "
            "visibly. Learning to notice that wear is the first and most valuable skill a new cyclist can "
            "acquire.",
            "Start with the tyres. Under-inflated tyres make riding slow and tiring, and they are far more "
            "likely to puncture when they hit the edge of a kerb or a pothole. The recommended pressure is "
            "printed on the side of the tyre. A floor pump with a gauge costs less than two workshop visits "
            "and pays for itself within a season. Check the tread for embedded glass or flint while you are "
            "at it.",
            "The chain deserves attention next. A dry, rusty chain wastes effort and wears out the gears; an "
            "over-oiled chain collects grit and turns into grinding paste. Wipe the chain with a rag, apply "
            "one drop of lubricant to each roller while turning the pedals backwards, wait a few minutes and "
            "wipe off the excess. A cheap chain checker tells you when the chain has stretched and needs "
            "replacing, long before it damages the more expensive sprockets.",
            "Brakes need regular inspection because they wear gradually and the rider adapts without "
            "noticing. Squeeze each lever firmly: it should stop well before it touches the handlebar. Rim "
            "brake pads have grooves that disappear when the pad is worn, and disc brake pads can be "
            "checked by looking into the calliper with a torch. If you are not sure, ask someone "
            "experienced to look with you; brakes are not the place to guess.",
            "Finally, listen to the bicycle. Clicks, creaks and rubbing noises are almost always early "
            "warnings of something loose or misaligned. Tracking down a noise usually means checking bolts "
            "one at a time, and it teaches you how the machine fits together. After a year of this, "
            "most riders find that the workshop becomes a place for occasional big jobs rather than a "
            "monthly necessity.",
        ],
    },
    {
        "slug": "what-tide-pools-teach",
        "title": "What Tide Pools Teach Us About Ecosystems",
        "paragraphs": [
            "Twice a day the sea withdraws from rocky shores and leaves behind small pools of water. For a "
            "few hours each pool is an isolated world, and the animals and seaweeds in it must tolerate "
            "changes that would kill most marine life. The water warms in the sun, its salt concentration "
            "rises as it evaporates or falls when rain arrives, and oxygen runs low at night.",
            "Because of these stresses, tide pools are excellent places to observe how living things divide "
            "up an environment. Barnacles and mussels cluster high on the rocks where they are exposed "
            "longest, sealing themselves shut until the water returns. Anemones and sea snails prefer the "
            "lower, wetter zones. Each species occupies the band where it can survive the physical "
            "conditions and where its competitors and predators are least effective.",
            "Ecologists have used rocky shores to test some of the central ideas of their discipline. When "
            "researchers removed a single predatory starfish species from sections of shore, mussels spread "
            "and crowded out many other species. The experiment showed that one animal could hold an entire "
            "community in balance, an idea later described with the term keystone species.",
            "Visiting tide pools responsibly is straightforward. Walk on bare rock rather than on seaweed, "
            "which hides animals and is slippery. Turn stones over gently and put them back exactly as they "
            "were, because the underside is a home for creatures that cannot survive exposure to sun and "
            "air. Look with your eyes first; most animals are easier to see if you wait quietly for a "
            "minute until they move.",
            "Check the tide tables before you go. The best viewing is around low water during spring tides, "
            "and the sea returns faster than many visitors expect. A rising tide can cut off a promontory "
            "within minutes, so keep an eye on your route back to the beach.",
        ],
    },
    {
        "slug": "the-quiet-craft-of-bookbinding",
        "title": "The Quiet Craft of Bookbinding",
        "paragraphs": [
            "Binding a book by hand is one of the most rewarding crafts that can be learned at a kitchen "
            "table. The materials are modest: paper, thread, glue, a piece of board and some cloth. The "
            "tools are few, and several of them can be improvised. What the craft demands is patience, "
            "because every step depends on the accuracy of the one before it.",
            "The basic unit of a bound book is the signature, a small stack of sheets folded in half. A "
            "beginner's notebook might contain eight signatures of four sheets each. Folding is done with "
            "the grain of the paper running parallel to the spine, which lets the pages turn smoothly and "
            "stops the finished book from warping when the air is humid.",
            "Sewing joins the signatures together. Holes are pierced along each fold using a template, so "
            "that every signature lines up with the others. The thread passes in and out of the holes and "
            "links each signature to its neighbour with a small loop called a kettle stitch. Waxed linen "
            "thread is traditional; it is strong, does not tangle easily and holds its tension.",
            "Once the text block is sewn, the spine is glued and often lined with a strip of mull, a loose "
            "cotton fabric that reinforces the hinge. The covers are cut from board, wrapped in cloth or "
            "decorated paper, and attached to the text block with the mull and the endpapers. The whole "
            "book is then pressed overnight between boards under weight, so that the glue dries flat.",
            "The first book is rarely perfect. The spine may lean, the pages may be uneven, and a corner of "
            "the cloth may lift. Yet it is a real book that opens flat and will last for decades, and each "
            "new attempt is noticeably better. Many binders keep their first clumsy notebook as a reminder "
            "of how much the hands learn through repetition.",
        ],
    },
    {
        "slug": "understanding-home-insulation",
        "title": "Understanding Home Insulation and Where the Heat Goes",
        "paragraphs": [
            "Heating an older house can feel like pouring water into a sieve. The boiler runs for hours, "
            "the radiators are hot, and yet the rooms cool quickly once the heating switches off. The "
            "explanation is that heat escapes through every part of the building envelope, and the largest "
            "losses are often not where people look first.",
            "In a typical detached house without insulation, roughly a quarter of the heat escapes through "
            "the roof and a third through the walls. Windows, floors and draughts account for most of the "
            "rest. These proportions vary with the shape of the building, but they explain why loft "
            "insulation is usually the cheapest and most effective first step: warm air rises, and an "
            "uninsulated loft lets it leave almost without resistance.",
            "Draughts deserve more attention than they receive. Gaps around doors and windows, unused "
            "chimneys, loose floorboards and holes where pipes pass through walls allow warm air to leave "
            "and cold air to enter. Sealing them costs little and the effect is felt immediately as a room "
            "that no longer feels chilly near the floor. Ventilation must still be preserved, especially in "
            "kitchens and bathrooms, to avoid condensation and mould.",
            "Wall insulation is a larger project. Cavity walls can often be filled by injecting insulation "
            "through small holes, a job that takes a day. Solid walls need insulation fixed either to the "
            "inside, which reduces room size, or to the outside, which changes the appearance of the house "
            "and usually requires permission. Both approaches need careful detailing around windows to "
            "avoid cold spots where moisture can condense.",
            "The most useful tool for deciding where to start is a simple survey on a cold day. Feel for "
            "draughts with the back of your hand, look for condensation patterns on walls and ceilings, and "
            "compare how quickly different rooms cool in the evening. The results point to the cheapest "
            "improvements, and they also provide a baseline against which later work can be judged.",
        ],
    },
    {
        "slug": "learning-a-language-as-an-adult",
        "title": "Learning a Second Language as an Adult",
        "paragraphs": [
            "Adults are often told that languages are best learned in childhood, and it is true that young "
            "children acquire pronunciation with an ease that few adults can match. But adults have "
            "advantages too. They can read, they understand how grammar works in their own language, and "
            "they can plan their learning deliberately. Many people reach a comfortable conversational "
            "level in a new language within two or three years of steady effort.",
            "The most important factor is the amount of contact with the language. An hour of class each "
            "week is not enough on its own; the learner needs to hear and read the language every day. "
            "Podcasts during a commute, a television series with subtitles in the target language, or a "
            "short article read with a dictionary at lunchtime all add up, and they make the classroom "
            "hour far more productive.",
            "Vocabulary grows fastest through spaced repetition. Reviewing a new word after a day, then "
            "after three days, then after a week, fixes it in memory much more efficiently than reviewing "
            "it many times in one evening. Flashcard programs automate this schedule, but a paper notebook "
            "with dated pages works almost as well for those who prefer it.",
            "Speaking is where most adults feel least confident, and the only remedy is practice in a "
            "setting where mistakes are expected. Language exchanges, in which two people each help the "
            "other with their native language, are free and widely available. The first conversations are "
            "slow and awkward; after a dozen sessions they become ordinary, and the learner starts to think "
            "in phrases rather than in single words.",
            "Progress is rarely smooth. There are long plateaus in which nothing seems to improve, followed "
            "by sudden moments when a film or a conversation suddenly becomes clear. Keeping a simple record "
            "of what you can do, such as the first phone call, the first book finished or the first joke "
            "understood, helps to see that the plateaus are part of the process.",
        ],
    },
    {
        "slug": "a-day-in-a-municipal-library",
        "title": "A Day in the Life of a Municipal Library",
        "paragraphs": [
            "Before the doors open at nine, the library is already busy. Staff empty the returns box, check "
            "in the books that arrived overnight and load trolleys for reshelving. Requests from other "
            "branches are pulled from the shelves and packed into crates for the van that tours the city "
            "each morning. By the time the first visitors arrive, most of this work is invisible.",
            "The morning belongs to parents with small children and to older residents. A storytelling "
            "session fills the children's corner with songs, picture books and a certain amount of noise, "
            "while at the long tables by the window people read newspapers, fill in forms with the help of "
            "a librarian or learn to use the public computers in a weekly beginners' class.",
            "Around midday students arrive. Some come for the quiet study rooms, others for the free "
            "internet connection and the printers. The reference desk answers questions that range from "
            "how to find an old planning decision to how to cite a source in an essay. Librarians rarely "
            "know every answer, but they know where to look and how to judge whether a source can be "
            "trusted.",
            "In the afternoon the library often becomes a meeting place. A conversation group for people "
            "learning the local language meets in one room, a chess club in another, and a local history "
            "society uses the archive to prepare an exhibition. None of these activities involve lending "
            "books, yet they are a large part of what a public library does for its neighbourhood.",
            "When the doors close in the evening, the counters are tidied, the computers restart for the "
            "next day and the last trolley is shelved. The statistics recorded at the end of the day count "
            "loans and visits, but they do not capture the quieter outcomes: the job application finished, "
            "the child who discovered a favourite author, or the newcomer who found someone to talk to.",
        ],
    },
    {
        "slug": "winter-birdwatching",
        "title": "Winter Birdwatching for Complete Beginners",
        "paragraphs": [
            "Winter is an underrated season for watching birds. The trees are bare, so birds are easier to "
            "see, and many species gather in flocks around reliable sources of food. A garden feeder, a "
            "city park with a lake or a stretch of estuary at low tide can show a beginner more variety in "
            "an hour than a summer walk through dense woodland.",
            "A pair of binoculars is the only essential equipment. Models described as eight by forty-two "
            "are a good compromise between magnification, brightness and weight. Before buying, try "
            "several pairs if possible: the best binoculars are the ones that feel comfortable enough to "
            "carry on every walk. A small field guide with illustrations rather than photographs helps "
            "with identification, because the drawings emphasise the features that matter.",
            "Learn the common birds first. It is tempting to hope for rarities, but confident knowledge of "
            "the twenty species you see every week is what makes the unusual ones stand out. Notice the "
            "size compared with a familiar bird, the shape of the bill, the way it moves on the ground and "
            "the pattern of its flight. Colour is often the least reliable clue in poor winter light.",
            "Feeding garden birds in cold weather brings them close and gives the observer time to study "
            "them. Offer a variety of food, such as seeds, fat balls and fruit, and keep feeders clean to "
            "prevent the spread of disease. Fresh water is as important as food when ponds freeze over, and "
            "a shallow dish that is refilled each morning will attract birds that never visit the feeders.",
            "Keeping a list turns casual watching into a hobby. Write down what you see, where and when. "
            "Over a winter the list reveals patterns: the thrushes that arrive after the first frosts, the "
            "ducks that appear on the lake only in the coldest weeks, and the robin that sings from the "
            "same branch every morning as if to remind you that spring is on its way.",
        ],
    },
]

NOTICES: list[tuple[str, str]] = [
    (
        "Road closure on Mill Street",
        "Mill Street will be closed between the bridge and the market square from Monday to Friday next week while the water main is replaced. Buses will follow the signed diversion through Station Road. Residents can still reach their homes on foot at all times.",
    ),
    (
        "New opening hours for the swimming pool",
        "From the first of next month the public swimming pool opens at half past six on weekdays to give early swimmers more lanes before work. Family sessions move to Saturday and Sunday afternoons. The sauna keeps its current hours.",
    ),
    (
        "Volunteers wanted for the spring clean",
        "We are looking for volunteers to help clean the riverbank on the last Saturday of March. Gloves, bags and litter pickers will be provided, and tea and sandwiches will be served at the boathouse at noon. Please register so that we can plan the equipment.",
    ),
    (
        "Library book sale this weekend",
        "Hundreds of withdrawn books will be on sale in the library hall on Saturday and Sunday, from novels and cookbooks to travel guides and children's picture books. All proceeds go to the reading programme for local schools. Bring your own bag if you can.",
    ),
    (
        "Changes to recycling collection",
        "Glass and paper will be collected on the same day from next month, every second Tuesday. Please put your boxes out by seven in the morning and keep the lids closed in wet weather so that the paper stays dry. Garden waste collections are not affected.",
    ),
    (
        "Community choir looks for tenors",
        "Our community choir rehearses every Wednesday evening in the church hall and would love to welcome new tenors and basses. You do not need to read music; we learn by ear and have fun doing it. The summer concert programme includes folk songs and film music.",
    ),
    (
        "Clinic moves to new building",
        "The health clinic moves to the new building beside the railway station on the fourteenth. Appointments already booked will take place at the new address. There is step-free access from the platform and a small car park for patients with limited mobility.",
    ),
    (
        "Farmers' market returns",
        "The farmers' market returns to the old market square every Saturday morning from April to October. Local growers will sell vegetables, cheese, bread, honey and plants. The stalls open at eight and the square is closed to traffic until two in the afternoon.",
    ),
    (
        "Free repair café",
        "Bring your broken toaster, torn jacket or wobbly chair to the repair café at the community centre on the first Sunday of each month. Volunteer fixers will help you repair it yourself. Coffee and cake are available, and donations towards tools are welcome.",
    ),
    (
        "Power cut planned for maintenance",
        "Electricity will be switched off in the streets north of the park on Thursday between nine and one while the network operator replaces an old transformer. Please unplug sensitive equipment beforehand. Street lights on the main road will not be affected.",
    ),
    (
        "Winter parking rules",
        "During snowfall the council clears the main routes first. Please do not park on streets marked with blue winter signs between November and March, because the gritting lorries need the full width of the road. Cars left on these streets may be moved.",
    ),
    (
        "Summer reading challenge",
        "Children aged four to eleven can join the summer reading challenge at any library branch. Read six books during the holidays, collect stickers along the way and receive a medal and certificate at the celebration in September. Joining is free.",
    ),
    (
        "Allotment plots available",
        "A few allotment plots have become available at the Hillside site. Each plot measures about two hundred square metres and has access to a water tap and a shared tool shed. The annual rent is modest. Applications are handled in the order they arrive.",
    ),
    (
        "Museum late opening",
        "On the last Friday of every month the city museum stays open until ten in the evening. The late openings include short talks by curators, live music in the main hall and a bar in the courtyard. Admission to the permanent collection remains free.",
    ),
    (
        "Bridge inspection",
        "Engineers will inspect the footbridge over the canal on Monday and Tuesday. The bridge will remain open, but one side of the walkway will be closed for short periods while the team works. Cyclists are asked to dismount while crossing.",
    ),
]

THREAD_TITLES: list[str] = [
    "Best way to store winter tyres?",
    "Tomato leaves turning yellow from the bottom",
    "Recommendations for a quiet laptop for writing",
    "How do you keep houseplants alive while travelling?",
    "Sourdough too sour, what am I doing wrong?",
    "Which night train compartment is worth the money?",
    "First time painting a ceiling, any tips?",
    "Learning to knit socks: where to start",
    "Noisy radiator in the bedroom",
    "Good beginner telescope for a city balcony",
]

COMMENTS: list[str] = [
    "I had the same problem last year and it turned out to be watering from above in the evening. Switching to watering at the base in the morning helped a lot.",
    "Honestly the cheapest option worked fine for me. I would not spend more until you know what you actually need.",
    "Have you checked the manual? Mine had a section on exactly this at the back, under troubleshooting.",
    "Thanks, that makes sense. I will try it this weekend and report back.",
    "We store ours in the cellar, stacked flat, away from the boiler. They have lasted four seasons so far.",
    "Take photos before you start taking anything apart. It saved me more than once when I forgot which washer went where.",
    "A friend of mine swears by the opposite approach, so maybe it depends on the climate where you live.",
    "Update: it worked! Thanks everyone for the suggestions, especially the one about bleeding the valve first.",
    "Careful with that, the warranty might not cover it if you open the case yourself.",
    "I asked at the local shop and they were very helpful. They even lent me the tool for a day.",
    "Patience is the main thing. It took me three attempts before it looked the way I wanted.",
    "Short answer: yes, but only if you can keep the temperature stable. Otherwise do not bother.",
    "Our library has a lending shelf for tools and kits like that. Worth asking before you buy one.",
    "Mine started doing the same after we moved. I think the water here is much harder.",
    "Start small. A single project finished is better than three half done ones in a cupboard.",
    "That guide is a bit outdated; the newer models have a different connector.",
    "I used masking tape along the edges and it made a huge difference to the finish.",
    "We took the couchette once and slept surprisingly well. Bring earplugs though.",
    "If the noise is a regular knocking it is probably air in the system rather than the pump.",
    "Try feeding it twice a day for a few days at room temperature, then judge again.",
    "Does anyone know if the evening class still runs in spring? The website has not been updated.",
    "You can buy a cheap moisture meter for plants. It stopped me from overwatering.",
    "I would go for the smaller one. The big one looked impressive but it was too heavy to use every day.",
    "The trick is to count rows as you go. I lost track twice before I started using a little counter.",
    "Ask your neighbours first. Ours had the same issue and knew exactly which valve to close.",
    "We bought second hand and it has been perfectly fine for years.",
    "My grandmother always did it this way and I have never found a better method.",
    "Good question, I was wondering the same thing.",
    "Not sure it helps, but the manufacturer has a support forum with a lot of answers like this.",
    "After reading this thread I finally fixed mine. The culprit was a loose screw behind the panel.",
]

THIN_PAGES: list[tuple[str, str]] = [
    ("Log in", "Username Password Remember me Forgot your password?"),
    ("Page moved", "This page has moved. Click here."),
    ("Subscribe", "Enter your email address. Subscribe."),
    ("Under construction", "Coming soon!"),
    ("Search results", "No results found for your query."),
    ("Shopping cart", "Your cart is empty. Continue shopping."),
]
