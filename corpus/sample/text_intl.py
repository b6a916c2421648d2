"""Non-English texts of the sample, written for this project (three short articles per language)
and the legacy charset each language's pages are sometimes served in."""

from __future__ import annotations

LEGACY_CHARSET: dict[str, str] = {
    "ja": "shift_jis",
    "zh": "gbk",
    "ru": "windows-1251",
    "ko": "euc-kr",
    "de": "iso-8859-1",
    "fr": "windows-1252",
}
"""One page per language is encoded in this charset (declared in the header, in ``<meta>``
only, or not at all), as older sites still are."""

INTL: dict[str, list[tuple[str, list[str]]]] = {
    "zh": [
        (
            "城市里的社区菜园",
            [
                "近几年，越来越多的城市居民开始在小区空地和楼顶上种菜。社区菜园不仅能提供新鲜的蔬菜，还让邻居之间有了更多交流的机会。很多人在搬进新小区之前，从来没有和隔壁的住户说过话，而现在他们每周都会在菜地里见面。",
                "办好一个社区菜园并不复杂。首先要和物业沟通，确定可以使用的场地和用水方式。然后由居民自愿报名，每户分到一小块地。大家一起制定简单的规则，比如不使用化学农药、按时浇水、收获时和邻居分享。",
                "对于孩子们来说，菜园是一间户外教室。他们亲手播种、浇水、观察幼苗一天天长大，才真正明白食物是从哪里来的。不少家长说，自从孩子参加了菜园活动，吃饭挑食的毛病也改了很多。",
            ],
        ),
        (
            "如何养成阅读的习惯",
            [
                "很多人都想多读书，却总觉得没有时间。其实，阅读习惯不需要每天花好几个小时，关键在于坚持。每天睡前读二十分钟，一年下来就能读完十几本书。",
                "选择自己真正感兴趣的书非常重要。如果一本书读了几十页还是觉得枯燥，不妨先放下，换一本别的。阅读应该是一种享受，而不是负担。等到读书成为习惯以后，再慢慢尝试难度更高的作品也不迟。",
                "另外，可以和朋友一起读同一本书，每周约好时间交流感想。讨论能帮助我们更深入地理解书中的内容，也能让坚持变得更加容易。图书馆的读书会也是一个很好的选择。",
            ],
        ),
        (
            "高铁改变了人们的出行方式",
            [
                "高速铁路的发展让城市之间的距离变得越来越近。过去需要坐一整夜火车才能到达的地方，现在只要三四个小时就能抵达。很多人开始在一个城市工作，在另一个城市生活。",
                "与飞机相比，高铁的优点是准时、舒适，而且车站通常位于市区附近。乘客不需要提前很久到达，也不用担心天气造成的延误。在车上可以看书、工作，或者欣赏窗外的风景。",
                "当然，高铁也带来了新的问题。一些小城市的车站离市中心较远，换乘并不方便。如何让高铁站和城市公共交通更好地衔接，是许多地方政府正在研究的课题。",
            ],
        ),
    ],
    "ja": [
        (
            "図書館で過ごす休日",
            [
                "休日の午後、近所の図書館へ出かけるのが私の楽しみです。館内はいつも静かで、窓際の席からは公園の木々がよく見えます。新聞や雑誌を読む人、勉強をする学生、絵本を選ぶ親子など、さまざまな人が思い思いに時間を過ごしています。",
                "最近の図書館は本を借りるだけの場所ではありません。子ども向けの読み聞かせ会や、地域の歴史を紹介する展示、パソコン教室なども開かれています。職員の方に相談すれば、調べ物の方法も丁寧に教えてもらえます。",
                "気になる本を何冊か選んで、閉館の時間までゆっくり読む。特別なことは何もありませんが、こうした穏やかな時間が一週間の疲れを癒してくれるのです。",
            ],
        ),
        (
            "季節の野菜で作る簡単な料理",
            [
                "旬の野菜は味が濃く、値段も手頃です。春には菜の花や新玉ねぎ、夏にはトマトやなす、秋にはかぼちゃやきのこ、冬には大根や白菜がおいしくなります。季節に合わせて献立を考えると、料理がもっと楽しくなります。",
                "例えば、夏のなすは油との相性が抜群です。一口大に切ったなすをごま油で焼き、しょうゆとみりんで味をつけるだけで、ご飯によく合うおかずになります。仕上げに刻んだ大葉をのせると、香りがさわやかです。",
                "冬の大根は、厚めに切って昆布だしでじっくり煮るのがおすすめです。味がしみた大根は体を内側から温めてくれます。残った煮汁は味噌汁に使えば、無駄もありません。",
            ],
        ),
        (
            "自転車通勤を始めて分かったこと",
            [
                "去年の春から、会社まで自転車で通うことにしました。片道およそ八キロで、最初はかなり疲れましたが、二週間ほどで体が慣れてきました。満員電車に乗らなくてよいので、朝の気分がずいぶん軽くなりました。",
                "安全のために、ヘルメットとライトは必ず使っています。雨の日は無理をせず電車を利用し、タイヤの空気圧とブレーキは週末に点検するようにしています。",
                "自転車で走ると、季節の変化がよく分かります。桜並木の道、夏の朝の涼しい風、秋の落ち葉の色。通勤の時間が、一日の中で大切な時間に変わりました。",
            ],
        ),
    ],
    "de": [
        (
            "Warum Nachtzüge wieder gefragt sind",
            [
                "Lange Zeit galten Nachtzüge als Auslaufmodell. Billigflüge waren schneller und günstiger, und viele Verbindungen wurden eingestellt. Inzwischen hat sich das Blatt gewendet: Immer mehr Reisende entscheiden sich bewusst für die Fahrt im Schlafwagen.",
                "Der größte Vorteil liegt auf der Hand. Wer abends einsteigt und morgens ankommt, verliert keinen Arbeitstag und spart sich eine Hotelübernachtung. Außerdem verursacht eine Bahnreise deutlich weniger Treibhausgase als ein Flug über dieselbe Strecke.",
                "Wer eine Reise plant, sollte früh buchen. Gerade in den Ferien sind die Abteile schnell ausverkauft. Ein Platz im Liegewagen ist günstiger als ein eigenes Abteil, und mit Ohrstöpseln und einer Schlafmaske schläft man auch dort erstaunlich gut.",
            ],
        ),
        (
            "Gemüse auf dem Balkon anbauen",
            [
                "Auch ohne Garten kann man eigenes Gemüse ernten. Ein sonniger Balkon reicht für Tomaten, Salat, Kräuter und sogar Erdbeeren. Wichtig sind ausreichend große Töpfe und gute Erde, denn kleine Gefäße trocknen im Sommer sehr schnell aus.",
                "Im Frühjahr beginnt man am besten mit Pflücksalat und Radieschen, die schon nach wenigen Wochen geerntet werden können. Tomaten und Paprika kommen erst nach den letzten Frösten im Mai nach draußen.",
                "Im Hochsommer muss täglich gegossen werden, am besten morgens. Wer für ein paar Tage verreist, kann Tonkegel oder Flaschen mit Wasser in die Erde stecken. So überstehen die Pflanzen auch eine kurze Abwesenheit ohne Schaden.",
            ],
        ),
        (
            "Die Stadtbibliothek als Treffpunkt",
            [
                "Die Stadtbibliothek ist längst mehr als ein Ort zum Ausleihen von Büchern. Vormittags kommen Eltern mit kleinen Kindern zur Vorlesestunde, mittags nutzen Schülerinnen und Schüler die ruhigen Arbeitsplätze, und am Nachmittag treffen sich Gesprächsgruppen zum Sprachenlernen.",
                "Viele Menschen schätzen die kostenlose Internetverbindung und die Hilfe des Personals bei Formularen und Bewerbungen. Für ältere Besucher gibt es Computerkurse, in denen sie lernen, mit Tablet und E-Mail umzugehen.",
                "Damit bleibt die Bibliothek ein Ort, an dem sich unterschiedliche Menschen begegnen, ohne etwas kaufen zu müssen. Gerade in Zeiten steigender Mieten und teurer Cafés ist das wertvoller denn je.",
            ],
        ),
    ],
    "fr": [
        (
            "Le retour des trains de nuit",
            [
                "Pendant des années, les trains de nuit ont disparu les uns après les autres. Aujourd'hui, ils reviennent sur plusieurs lignes européennes, et les voyageurs sont de plus en plus nombreux à choisir de dormir dans le train plutôt que de prendre l'avion.",
                "L'avantage est simple : on part le soir après le travail et on arrive le matin au centre-ville, sans perdre de temps à l'aéroport. Le voyage en train émet aussi beaucoup moins de gaz à effet de serre qu'un vol sur la même distance.",
                "Pour bien voyager, il vaut mieux réserver tôt et prévoir quelques affaires pratiques : des bouchons d'oreilles, une bouteille d'eau et un petit en-cas. Les couchettes sont moins chères que les compartiments privés et restent confortables pour une nuit.",
            ],
        ),
        (
            "Faire son pain au levain à la maison",
            [
                "Le pain au levain demande un peu de patience, mais peu de matériel. Il suffit de farine, d'eau, de sel et d'un levain actif, que l'on peut obtenir auprès d'un ami boulanger ou préparer soi-même en une semaine.",
                "La pâte se prépare la veille. Après un long repos à température ambiante, on la façonne, puis on la laisse lever lentement au réfrigérateur pendant la nuit. Cette fermentation lente donne au pain son goût légèrement acidulé et sa mie alvéolée.",
                "Le lendemain matin, on cuit le pain dans une cocotte en fonte très chaude. Le couvercle garde la vapeur pendant les vingt premières minutes, ce qui permet à la croûte de se développer. Le résultat est un pain qui se conserve plusieurs jours.",
            ],
        ),
        (
            "Observer les oiseaux en hiver",
            [
                "L'hiver est une excellente saison pour observer les oiseaux. Les arbres n'ont plus de feuilles et de nombreuses espèces se rassemblent autour des mangeoires, des étangs et des estuaires. Une simple paire de jumelles suffit pour commencer.",
                "Il est conseillé d'apprendre d'abord à reconnaître les oiseaux les plus communs : la mésange, le rouge-gorge, le merle ou le moineau. Observer leur taille, la forme du bec et leur manière de se déplacer aide beaucoup plus que la couleur, souvent trompeuse en hiver.",
                "Si vous nourrissez les oiseaux, pensez aussi à leur offrir de l'eau fraîche lorsque les mares sont gelées, et nettoyez régulièrement les mangeoires pour éviter les maladies.",
            ],
        ),
    ],
    "es": [
        (
            "Cómo empezar a correr sin lesionarse",
            [
                "Correr es uno de los deportes más sencillos: solo se necesitan unas zapatillas adecuadas y ganas de salir a la calle. Sin embargo, muchas personas se lesionan en las primeras semanas porque intentan hacer demasiado demasiado pronto.",
                "Lo más recomendable es alternar minutos de carrera suave con minutos de caminata. Al principio basta con tres sesiones por semana de unos veinte minutos. Poco a poco se aumenta el tiempo de carrera y se reduce el de caminata.",
                "También es importante escuchar al cuerpo. Un poco de cansancio es normal, pero un dolor agudo en la rodilla o en el tobillo es una señal para descansar. Dormir bien y comer de forma equilibrada forman parte del entrenamiento.",
            ],
        ),
        (
            "La biblioteca del barrio",
            [
                "La biblioteca de nuestro barrio abrió hace treinta años en un antiguo mercado. Hoy es uno de los lugares más concurridos de la zona: estudiantes, jubilados, familias y vecinos recién llegados la visitan cada día.",
                "Además de prestar libros, organiza clubes de lectura, talleres de informática y cuentacuentos para los más pequeños. Los bibliotecarios ayudan a rellenar formularios y a buscar información, algo que muchos vecinos agradecen.",
                "Para muchas personas, la biblioteca es el único espacio público donde pueden pasar la tarde sin gastar dinero, leer el periódico o conectarse a internet. Por eso los vecinos defienden con tanto cariño sus horarios y sus servicios.",
            ],
        ),
        (
            "Un huerto en el balcón",
            [
                "No hace falta tener un jardín para cultivar tomates, lechugas o hierbas aromáticas. Un balcón con varias horas de sol al día es suficiente si se eligen macetas grandes y un buen sustrato.",
                "En primavera se pueden sembrar lechugas y rábanos, que crecen deprisa. Los tomates y los pimientos se trasplantan cuando ya no hay riesgo de heladas. En verano hay que regar casi todos los días, preferiblemente por la mañana temprano.",
                "Cultivar en casa enseña a valorar los alimentos y a entender el ritmo de las estaciones. Además, pocas cosas saben tan bien como un tomate recién cogido de la planta.",
            ],
        ),
    ],
    "it": [
        (
            "Il ritorno dei treni notturni",
            [
                "Dopo anni di declino, i treni notturni stanno tornando in molte parti d'Europa. Sempre più viaggiatori scelgono di dormire in cuccetta invece di prendere un volo all'alba.",
                "Il vantaggio principale è il tempo: si parte la sera e si arriva la mattina in centro città, senza controlli di sicurezza e senza trasferimenti dall'aeroporto. Inoltre, il treno inquina molto meno dell'aereo.",
                "Conviene prenotare con anticipo, soprattutto durante le vacanze. Con un paio di tappi per le orecchie e una bottiglia d'acqua, anche una notte in cuccetta può essere sorprendentemente riposante.",
            ],
        ),
        (
            "Fare il pane in casa",
            [
                "Preparare il pane in casa è più semplice di quanto si pensi. Bastano farina, acqua, sale e lievito, oppure un lievito madre ben attivo. Il segreto è dare all'impasto il tempo di riposare.",
                "Una lunga lievitazione in frigorifero permette di sviluppare aromi più complessi e rende il pane più digeribile. La mattina dopo si forma la pagnotta e la si cuoce in forno ben caldo.",
                "Il profumo del pane appena sfornato riempie tutta la casa. Conservato in un sacchetto di stoffa, resta buono per diversi giorni.",
            ],
        ),
        (
            "La biblioteca come luogo d'incontro",
            [
                "La biblioteca comunale non è soltanto un luogo dove prendere in prestito libri. Ogni giorno ospita studenti, pensionati, famiglie con bambini e persone che cercano un posto tranquillo per lavorare.",
                "Nel pomeriggio si tengono corsi di lingua, gruppi di lettura e incontri sulla storia del quartiere. I bibliotecari aiutano anche a compilare moduli e a usare i computer.",
                "In un periodo in cui gli spazi pubblici gratuiti sono sempre più rari, la biblioteca resta un punto di riferimento prezioso per tutta la comunità.",
            ],
        ),
    ],
    "pt": [
        (
            "Como cuidar de plantas dentro de casa",
            [
                "Ter plantas dentro de casa melhora o ambiente e traz um pouco de natureza para o dia a dia. Para que elas cresçam saudáveis, é preciso observar a luz, a rega e o tamanho do vaso.",
                "A maioria das plantas de interior prefere luz indireta e forte, perto de uma janela. O erro mais comum é regar demais: antes de regar, vale a pena tocar na terra e verificar se ela está seca a alguns centímetros de profundidade.",
                "Durante as férias, é possível agrupar os vasos num local mais fresco e colocar garrafas de água invertidas na terra. Assim as plantas aguentam uma ou duas semanas sem problemas.",
            ],
        ),
        (
            "A biblioteca do bairro",
            [
                "A biblioteca do nosso bairro funciona num edifício antigo perto da praça. Todos os dias recebe estudantes, reformados e famílias com crianças pequenas.",
                "Além do empréstimo de livros, organiza sessões de leitura para crianças, cursos de informática e encontros de conversação para quem está a aprender português.",
                "Para muitos moradores, é o único lugar onde podem passar a tarde sem gastar dinheiro, ler o jornal ou usar a internet. Por isso a biblioteca é tão importante para a comunidade.",
            ],
        ),
        (
            "Andar de bicicleta na cidade",
            [
                "Cada vez mais pessoas usam a bicicleta para ir para o trabalho. É um meio de transporte barato, saudável e que não polui.",
                "Para pedalar em segurança, é essencial usar capacete, ter luzes e manter os travões e os pneus em bom estado. Escolher ruas mais calmas, mesmo que o caminho seja um pouco mais longo, torna a viagem mais agradável.",
                "Com o tempo, muitos ciclistas descobrem que a viagem de bicicleta se torna um dos melhores momentos do dia.",
            ],
        ),
    ],
    "ru": [
        (
            "Ночные поезда снова в моде",
            [
                "Ещё недавно казалось, что ночные поезда уходят в прошлое. Сегодня всё больше путешественников снова выбирают поездку в спальном вагоне вместо раннего авиарейса.",
                "Главное преимущество очевидно: вы садитесь в поезд вечером и утром приезжаете в центр города, не теряя рабочего дня и не тратя деньги на гостиницу. Кроме того, поезд наносит гораздо меньше вреда окружающей среде.",
                "Билеты лучше покупать заранее, особенно во время каникул. Беруши, бутылка воды и немного еды сделают ночь в дороге гораздо приятнее.",
            ],
        ),
        (
            "Как приучить себя к чтению",
            [
                "Многие хотят читать больше, но жалуются на нехватку времени. На самом деле достаточно двадцати минут в день, чтобы за год прочитать больше десяти книг.",
                "Важно выбирать книги, которые действительно интересны. Если книга не увлекает после нескольких глав, её можно отложить и взять другую. Чтение должно приносить удовольствие, а не превращаться в обязанность.",
                "Хорошо помогает чтение вместе с друзьями: можно обсуждать прочитанное раз в неделю. Такие разговоры помогают лучше понять книгу и не бросить начатое.",
            ],
        ),
        (
            "Огород на балконе",
            [
                "Даже в городской квартире можно вырастить помидоры, салат и зелень. Для этого нужен солнечный балкон, большие горшки и хорошая почва.",
                "Весной удобно начинать с редиса и салата, которые растут очень быстро. Помидоры и перцы выносят на балкон после того, как пройдут последние заморозки.",
                "Летом растения нужно поливать почти каждый день, лучше всего рано утром. Зато собственный урожай, пусть и небольшой, приносит много радости.",
            ],
        ),
    ],
    "ko": [
        (
            "동네 도서관에서 보내는 주말",
            [
                "주말 오후에는 동네 도서관에 가는 것이 나의 작은 즐거움이다. 창가 자리에 앉으면 공원의 나무들이 보이고, 도서관 안은 언제나 조용하다.",
                "요즘 도서관은 책을 빌리는 곳만이 아니다. 아이들을 위한 책 읽어 주기 모임, 어르신을 위한 컴퓨터 교실, 지역 역사 전시회 등 다양한 프로그램이 열린다.",
                "읽고 싶은 책을 몇 권 골라 문 닫을 때까지 천천히 읽다 보면 한 주의 피로가 풀리는 것 같다.",
            ],
        ),
        (
            "제철 채소로 만드는 간단한 요리",
            [
                "제철 채소는 맛이 좋고 값도 저렴하다. 봄에는 냉이와 달래, 여름에는 오이와 가지, 가을에는 버섯과 고구마, 겨울에는 무와 배추가 맛있다.",
                "여름 가지는 기름에 볶으면 특히 맛있다. 가지를 한입 크기로 썰어 참기름에 볶고 간장과 마늘로 간을 하면 훌륭한 반찬이 된다.",
                "겨울 무는 두껍게 썰어 멸치 육수에 푹 끓이면 몸을 따뜻하게 해 주는 국이 된다.",
            ],
        ),
        (
            "자전거로 출근하기",
            [
                "작년 봄부터 회사까지 자전거로 출근하고 있다. 처음에는 힘들었지만 두 주쯤 지나자 몸이 익숙해졌다.",
                "안전을 위해 헬멧과 전조등은 꼭 사용하고, 비가 오는 날에는 무리하지 않고 지하철을 탄다. 주말에는 타이어 공기압과 브레이크를 점검한다.",
                "자전거를 타면 계절의 변화를 몸으로 느낄 수 있다. 출근길이 하루 중 가장 소중한 시간이 되었다.",
            ],
        ),
    ],
    "nl": [
        (
            "Waarom nachttreinen terug zijn",
            [
                "Lange tijd leken nachttreinen te verdwijnen. Tegenwoordig kiezen steeds meer reizigers er weer bewust voor om in de trein te slapen in plaats van vroeg in de ochtend te vliegen.",
                "Het voordeel is duidelijk: je vertrekt 's avonds en komt 's ochtends aan in het centrum van de stad, zonder veiligheidscontroles en zonder reistijd naar het vliegveld.",
                "Wie een reis plant, doet er goed aan vroeg te boeken. Met oordopjes en een fles water wordt ook een nacht in een couchette verrassend comfortabel.",
            ],
        ),
        (
            "Groenten kweken op het balkon",
            [
                "Ook zonder tuin kun je zelf groenten oogsten. Een zonnig balkon is genoeg voor tomaten, sla, kruiden en zelfs aardbeien.",
                "Gebruik grote potten en goede potgrond, want kleine potten drogen in de zomer snel uit. In het voorjaar kun je beginnen met pluksla en radijsjes.",
                "In de zomer moet je bijna elke dag water geven, het liefst 's ochtends vroeg. De eerste eigen tomaat smaakt des te beter.",
            ],
        ),
        (
            "De bibliotheek als ontmoetingsplek",
            [
                "De openbare bibliotheek is allang meer dan een plek om boeken te lenen. Er zijn taalcafés, computercursussen en voorleesuurtjes voor kinderen.",
                "Veel bezoekers waarderen de gratis wifi en de hulp van medewerkers bij formulieren en sollicitaties.",
                "Zo blijft de bibliotheek een plek waar verschillende mensen elkaar ontmoeten zonder iets te hoeven kopen.",
            ],
        ),
    ],
}
