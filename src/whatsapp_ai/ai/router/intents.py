"""The intent catalogue: what a WhatsApp message can ask for, with example utterances (PT and EN).

The router embeds the examples; the keyword patterns are cheap priors matched against the
folded text (lower case, no accents; see `whatsapp_ai.core.text.fold`). `OFF_TOPIC` holds
messages no agent serves: the router learns from them what to turn away.
"""

from __future__ import annotations

from dataclasses import dataclass

from whatsapp_ai.ai.router import agenda_intents, people_intents

# Agents always offered to every tenant: greeting, thanks, help and the way to a human.
ASSISTANT = "assistant"


@dataclass(frozen=True, slots=True)
class Intent:
    """One thing a message can ask for, the agent that serves it and how people say it."""

    id: str
    agent: str
    description: str
    examples: tuple[str, ...]
    keywords: tuple[str, ...] = ()


INTENTS: tuple[Intent, ...] = (
    Intent(
        id="finance.add_expense",
        agent="finance",
        description="Record money the contact spent.",
        examples=(
            "gastei 50 no mercado",
            "paguei 120 de luz",
            "comprei um lanche de 25 reais",
            "gastei 80,50 com gasolina hoje",
            "uber 32 reais",
            "almoço 45",
            "paguei a conta de internet, 99,90",
            "anota ai: farmacia 63 reais",
            "foram 150 no cartao na padaria",
            "registra um gasto de 70 no restaurante",
            "spent 40 on groceries",
            "paid 120 for the electricity bill",
            "I bought coffee for 5 dollars",
            "add an expense of 30 for lunch",
        ),
        keywords=(
            r"^(?!.*\b(?:quanto|qnto|qto|how much)\b).*\b(?:gastei|gastar|paguei|comprei|torrei|"
            r"spent|paid|bought)\b[^?]*\d",
            r"\b(?:registra|anota|lanca|coloca) (?:ai )?(?:um |uma )?(?:gasto|despesa)\b|"
            r"\badd an? expense\b",
            r"^(?:[a-z]+ )?[a-z]+ (?:r\$ ?)?\d+(?:[.,]\d+)?(?: reais| conto| pila)?$",
        ),
    ),
    Intent(
        id="finance.add_income",
        agent="finance",
        description="Record money the contact received.",
        examples=(
            "recebi 3000 de salário",
            "caiu o salario 4500",
            "entrou 800 de um freela",
            "recebi 150 do pix da Maria",
            "ganhei 200 vendendo bolo",
            "registra uma entrada de 1200",
            "recebi o reembolso de 90 reais",
            "meu pagamento de 2500 caiu hoje",
            "got paid 3000 today",
            "received 500 from a client",
            "I earned 250 from freelance work",
            "add income of 1000",
        ),
        keywords=(
            r"^(?!.*\b(?:quanto|qnto|qto|how much)\b).*\b(?:recebi|ganhei|entrou|caiu|vendi|"
            r"received|earned|got paid|got)\b[^?]*\d",
            r"\b(?:entrada|receita|income) de\b|\badd income\b",
        ),
    ),
    Intent(
        id="finance.query",
        agent="finance",
        description="Ask about past spending, income or the balance.",
        examples=(
            "quanto gastei em outubro?",
            "qual meu saldo?",
            "gastos com uber esse mês",
            "quanto eu gastei com mercado essa semana",
            "qto ja foi de ifood esse mes?",
            "quanto recebi em setembro",
            "mostra meus gastos de ontem",
            "qual foi meu maior gasto do mes",
            "quanto sobrou do salario",
            "how much did I spend on food this month?",
            "what's my balance?",
            "show my expenses from last week",
            "how much have I spent on uber?",
        ),
        keywords=(
            r"\b(?:quanto|qnto|qto|quantos)\b.*\b(?:gastei|gasto|gastos|recebi|ganhei|paguei|"
            r"sobrou|foi de|tenho de)\b",
            r"\bsaldo\b|\bbalance\b|\bmais gastei\b",
            r"\bhow much\b.*\b(?:spen[dt]|earn|receiv|left|money)",
            r"\b(?:meus|my) (?:gastos|despesas|expenses)\b",
        ),
    ),
    Intent(
        id="finance.edit_last",
        agent="finance",
        description="Correct the amount, category or date of the last entry.",
        examples=(
            "na verdade foi 45",
            "muda a categoria pra transporte",
            "errei, o valor é 80",
            "corrige pra 32 reais",
            "nao foi 50, foi 15",
            "troca a categoria para alimentação",
            "muda a data pra ontem",
            "edita o último gasto",
            "actually it was 45",
            "change the category to transport",
            "fix the last one, it was 20",
            "wrong amount, make it 60",
        ),
        keywords=(
            r"\bna (?:verdade|vdd)\b|\b(?:errei|digitei errado|valor errado|wrong amount)\b",
            r"\b(?:corrige|corrija|edita|edite|altera|altere)\b",
            r"\b(?:muda|mude|troca|troque)\b.*\b(?:categoria|valor|data)\b|\bcategoria (?:certa|"
            r"correta)\b",
            r"\b(?:era|foi) (?:r\$ ?)?\d",
            r"\bactually\b|\b(?:change|fix|correct)\b.*\b(?:category|amount|date|that|last)\b|"
            r"\b(?:it was|make it) \d",
        ),
    ),
    Intent(
        id="finance.delete_last",
        agent="finance",
        description="Delete the last recorded entry.",
        examples=(
            "apaga esse",
            "cancela o último gasto",
            "exclui o ultimo lançamento",
            "deleta isso, lancei errado",
            "remove esse gasto",
            "pode apagar o que eu mandei agora",
            "desfaz o ultimo",
            "esquece esse lançamento",
            "delete that",
            "remove the last expense",
            "undo the last entry",
            "cancel that transaction",
        ),
        keywords=(
            r"\b(?:apaga|apague|apagar|exclui|exclua|excluir|deleta|deletar|delete|desfaz|"
            r"desfazer|undo)\b",
            r"\b(?:cancela|remove|esquece)\b.*\b(?:gasto|lancamento|despesa|registro|transacao)\b",
            r"\b(?:remove|cancel)\b.*\b(?:expense|entry|transaction)\b",
        ),
    ),
    Intent(
        id="finance.summary",
        agent="finance",
        description="A summary or report of the contact's finances for a period.",
        examples=(
            "resumo do mês",
            "me manda o resumo financeiro",
            "relatorio de gastos do mes",
            "como ficaram minhas finanças essa semana?",
            "balanço do mes passado",
            "fechamento do mes",
            "quero ver um resumo das minhas despesas",
            "resumo semanal",
            "monthly summary",
            "give me a report of my spending",
            "how are my finances this month",
            "send me the weekly summary",
        ),
        keywords=(
            r"\b(?:resumo|relatorio|balanco|fechamento|extrato)\b(?!.*\b(?:pedido|carrinho|"
            r"compra)\b)",
            r"\b(?:summary|report|overview)\b(?!.*\b(?:order|cart)\b)",
            r"\b(?:financas|finances)\b",
        ),
    ),
    Intent(
        id="crm.add_reminder",
        agent="crm",
        description="Schedule a reminder for the contact.",
        examples=(
            "me lembra de ligar pro João amanhã",
            "remind me to pay rent on Friday",
            "me lembre de pagar o boleto dia 10",
            "cria um lembrete pra tomar remedio as 8",
            "lembrete: mandar orçamento pra Carla segunda",
            "nao me deixa esquecer de renovar o seguro",
            "me avisa amanha as 9 pra buscar as criancas",
            "lembra eu de responder o email do cliente",
            "me lembra daqui 2 horas de tirar o bolo",
            "set a reminder to call mom tomorrow",
            "remind me about the dentist at 3pm",
            "don't let me forget to send the invoice",
        ),
        keywords=(
            r"\b(?:me lembr[ae]|lembra eu|me avis[ae]|cria (?:um )?lembrete|"
            r"nao (?:me )?deixa (?:eu )?esquecer)\b",
            r"^lembrete\b|\blembrete(?: pra| para| de|:)",
            r"\bremind me\b|\breminder (?:to|for|about)\b|\bset a reminder\b|\blet me forget\b",
        ),
    ),
    Intent(
        id="crm.list_reminders",
        agent="crm",
        description="List the contact's reminders and agenda.",
        examples=(
            "quais são meus lembretes?",
            "o que eu tenho pra lembrar hoje",
            "lista meus lembretes",
            "tem algum lembrete pra amanhã?",
            "mostra os lembretes da semana",
            "o que tem na minha agenda hoje?",
            "quais compromissos eu tenho amanha",
            "show my reminders",
            "what do I have tomorrow?",
            "list my upcoming reminders",
            "any reminders for today?",
        ),
        keywords=(
            r"\b(?:quais|meus|lista|listar|mostra|tenho|tem algum)\b.*\b(?:lembretes|"
            r"compromissos?)\b",
            r"^lembretes\b|\bminha agenda\b|\b(?:o que|oq|que) tem na (?:minha )?agenda\b",
            r"\b(?:my|any|list|show)\b.*\breminders\b|\bwhat(?:'s| is) on my\b|\bwhat do i have\b",
        ),
    ),
    Intent(
        id="crm.add_meeting",
        agent="crm",
        description="Put a meeting or appointment on the contact's calendar.",
        examples=(
            "marca reunião com a Ana sexta às 10h",
            "agenda uma call com o cliente amanhã 14h",
            "coloca na agenda reuniao de equipe segunda 9h",
            "agendar reunião com o Pedro semana que vem",
            "marca uma visita na casa do Marcos sabado as 15",
            "bota uma reuniao com o fornecedor dia 12 as 16h",
            "marca um horario com o dentista quinta",
            "schedule a meeting with Ana on Friday at 10",
            "book a call with John tomorrow at 2pm",
            "set up a meeting with the team next Monday",
            "put a meeting with the supplier on my calendar Thursday",
        ),
        keywords=(
            r"\b(?:marca|marque|marcar|agenda|agende|agendar|bota|coloca)\b.*\b(?:reuniao|call|"
            r"visita|encontro|horario|cafe|almoco)\b",
            r"\b(?:schedule|book|set up|arrange|set)\b.*\b(?:meeting|call|appointment)\b",
        ),
    ),
    Intent(
        id="crm.add_contact",
        agent="crm",
        description="Save a new person to the contact's address book.",
        examples=(
            "salva o contato da Maria 11 98765-4321",
            "adiciona o Pedro nos contatos, email pedro@empresa.com",
            "novo contato: Joana, dentista",
            "cadastra o telefone do Carlos",
            "guarda o numero do encanador",
            "anota o contato do Rafael da loja de tintas",
            "add Maria to my contacts",
            "save John's number 555 1234",
            "new contact: Laura from marketing",
            "create a contact for my accountant",
            *people_intents.CONTACT_EXAMPLES,
        ),
        keywords=people_intents.CONTACT_KEYWORDS,
    ),
    Intent(
        id="crm.log_interaction",
        agent="crm",
        description="Note what happened in a conversation or meeting with someone.",
        examples=(
            "almocei com o Pedro hoje, ele vai mudar de emprego",
            "falei com a Ana, ela pediu proposta ate sexta",
            "liguei pro Joao e ele disse que vai fechar mes que vem",
            "encontrei a Carla na feira, ela ta gravida",
            "anota que o Marcos não gostou do orçamento",
            "tomei cafe com o Rodrigo, ele curte vinho",
            "conversei com o cliente da padaria, querem 3 bolos por semana",
            "had lunch with Pedro, he's changing jobs",
            "talked to Sarah, she wants a quote by Friday",
            "note that Mike's daughter started college",
            "met with the client today, they loved the demo",
            *people_intents.INTERACTION_EXAMPLES,
        ),
        keywords=people_intents.INTERACTION_KEYWORDS,
    ),
    Intent(
        id="knowledge.question",
        agent="knowledge",
        description="A question about the business: hours, delivery, payment, policies, location.",
        examples=(
            "qual o horário de funcionamento?",
            "vocês entregam em Niterói?",
            "como funciona a garantia?",
            "vcs abrem domingo?",
            "aceita cartão?",
            "qual o endereço da loja?",
            "tem estacionamento?",
            "qual o prazo de entrega?",
            "como faço pra trocar um produto?",
            "qual a politica de devolucao",
            "what are your opening hours?",
            "do you deliver to Niteroi?",
            "how does the warranty work?",
            "do you accept credit cards?",
            "where is the store located?",
        ),
        keywords=(
            r"\b(?:horario|abrem|abre|abertos?|fecham|funcionam|entrega|entregam|frete|garantia|"
            r"endereco|onde fica|devolucao|devolver|estacionamento|parcela|parcelar|parcelam|"
            r"aceita|aceitam|prazo|loja fisica)\b",
            r"\b(?:open|opening hours|deliver|delivery|ship|shipping|warranty|refund|"
            r"return policy|located|address|accept|installments)\b",
        ),
    ),
    Intent(
        id="sales.browse",
        agent="sales",
        description="Ask what products exist, their price, sizes, colours or stock.",
        examples=(
            "quais produtos vocês têm?",
            "tem camiseta preta?",
            "quanto custa o tênis?",
            "me manda o catálogo",
            "tem no tamanho M?",
            "qual o preço da calça jeans",
            "quais cores tem o boné?",
            "vcs tem fone de ouvido?",
            "what products do you have?",
            "do you have black t-shirts?",
            "how much is the sneaker?",
            "send me the catalog",
            "is the hoodie available in size L?",
        ),
        keywords=(
            r"\b(?:quanto custa|preco|catalogo|tamanho|tamanhos|cores|modelos|sabores|opcoes|"
            r"estoque|vendem)\b",
            r"\b(?:vcs|voces) (?:tem|vendem)\b|\b(?:qto|quanto) (?:ta|esta|e|sai) (?:o|a|os|as)\b|"
            r"\bqual (?:o )?(?:preco|valor) d[oa]\b",
            r"\bhow much (?:is|are|does|do) (?:the|a|an)\b|\b(?:price|catalog|catalogue|sizes?|"
            r"colou?rs|in stock)\b|\bdo you sell\b",
        ),
    ),
    Intent(
        id="sales.order_add",
        agent="sales",
        description="Add a product to the contact's order.",
        examples=(
            "quero 2 camisetas",
            "adiciona um boné",
            "vou querer o tenis 42",
            "coloca mais uma calça no pedido",
            "me ve 3 canecas",
            "quero comprar a mochila azul",
            "pode incluir uma meia tb",
            "manda 2 do kit presente",
            "I'll take 2 t-shirts",
            "add a cap to my order",
            "I want to buy the blue backpack",
            "put one more hoodie in the cart",
        ),
        keywords=(
            r"(?<!nao )\b(?:quero|queria|vou querer|me ve|me manda|manda|adiciona|inclui|incluir|"
            r"coloca|colocar|bota)\s+(?:mais )?(?:\d+|um|uma|dois|duas|tres)\b",
            r"\bvou (?:levar|querer)\b|(?<!nao )\bquero comprar\b",
            r"\b(?:i'?ll take|i'?d like|i want|add|put)\s+(?:\d+|one|two|three|a|an|"
            r"another)\b(?! expense)",
        ),
    ),
    Intent(
        id="sales.order_remove",
        agent="sales",
        description="Remove a product from the contact's order or lower its quantity.",
        examples=(
            "tira o boné do pedido",
            "remove a camiseta",
            "nao quero mais a calça",
            "tira uma das canecas",
            "cancela o tenis",
            "desisti da mochila",
            "diminui pra 1 camiseta",
            "remove the cap from my order",
            "I don't want the hoodie anymore",
            "take one t-shirt out of the cart",
        ),
        keywords=(
            r"\b(?:tira|tire|tirar|retira|retire|remove|remova|desisti|desiste|diminui|diminuir)\b",
            r"\bnao quero mais\b|\bcancela (?:o|a|os|as) (?!ultim)",
            r"\b(?:remove|take)\b.*\b(?:from|out|off)\b|\b(?:don'?t|do not) want\b.*\banymore\b",
        ),
    ),
    Intent(
        id="sales.order_view",
        agent="sales",
        description="Show what is in the contact's order and its total.",
        examples=(
            "o que tem no meu carrinho?",
            "mostra meu pedido",
            "quanto ficou o total?",
            "quais itens eu ja pedi",
            "me manda o resumo do pedido",
            "quanto deu tudo?",
            "ve meu carrinho",
            "show my cart",
            "what's in my order?",
            "what's the total so far?",
            "list the items in my order",
        ),
        keywords=(
            r"\b(?:mostra|ve|ver|oq|o que|como)\b.*\b(?:pedido|carrinho)\b|\bresumo do pedido\b",
            r"\btotal\b|\bitens\b|\bquanto (?:deu|ficou|ta dando|esta dando)\b",
            r"\b(?:show|what'?s in|what is in|see)\b.*\b(?:order|cart)\b|\bitems\b|"
            r"\bhow much is my (?:cart|order)\b",
        ),
    ),
    Intent(
        id="sales.checkout",
        agent="sales",
        description="Close the order and pay.",
        examples=(
            "quero pagar",
            "fecha o pedido",
            "pode finalizar a compra",
            "manda o link de pagamento",
            "vou pagar no pix",
            "finaliza ai",
            "bora fechar",
            "é só isso, pode fechar",
            "I want to pay",
            "checkout please",
            "send me the payment link",
            "that's all, close the order",
        ),
        keywords=(
            r"\b(?:fecha|fechar|finaliza|finalizar)\b",
            r"\b(?:quero|como|vou|bora|posso) (?:eu )?pag(?:ar|o)\b|\blink\b.*\bpag",
            r"\b(?:want to|ready to|how (?:do|can) i) pay\b|\bcheck ?out\b|\bpayment link\b|"
            r"\bclose the order\b",
        ),
    ),
    Intent(
        id="profile.update",
        agent="profile",
        description="Change how the assistant calls the contact, the language or their details.",
        examples=(
            "me chama de Ana",
            "fala em inglês",
            "meu nome é Carlos",
            "prefiro que fale em português",
            "pode me chamar de Rafa",
            "meu email é ana@gmail.com",
            "muda meu nome para Beatriz",
            "responde em ingles por favor",
            "call me Ana",
            "speak Portuguese please",
            "my name is John",
            "change my language to English",
        ),
        keywords=(
            r"\b(?:me chama|me chame|me chamar|meu nome)\b|\bprefiro (?:ingles|portugues)\b",
            r"\b(?:em|in) (?:ingles|portugues|english|portuguese|espanhol|spanish)\b",
            r"\b(?:meu|my) (?:email|e-mail)\b|\bcall me\b|\bmy name\b",
        ),
    ),
    Intent(
        id="smalltalk.greeting",
        agent=ASSISTANT,
        description="A greeting.",
        examples=(
            "oi",
            "olá, tudo bem?",
            "bom dia",
            "boa tarde!",
            "e ai, blz?",
            "oiee",
            "opa, tudo certo?",
            "boa noite pessoal",
            "hi",
            "hello there",
            "good morning",
            "hey, how are you?",
        ),
        keywords=(
            r"^(?:oi+e*|ola+|opa+|e ?ai+|bom dia+|boa tarde|boa noite|hi+|hello+|hey+|"
            r"good (?:morning|afternoon|evening))(?:[\s,!.?]+(?:tudo bem|td bem|tudo bom|blz|"
            r"beleza|tudo certo|pessoal|gente|there|everyone|how are you|como vai))*[\s,!.?]*$",
        ),
    ),
    Intent(
        id="smalltalk.thanks",
        agent=ASSISTANT,
        description="Thanks.",
        examples=(
            "obrigado",
            "obrigada!",
            "valeu",
            "vlw",
            "muito obrigado pela ajuda",
            "show, brigado",
            "agradeço",
            "perfeito, obrigada",
            "thanks",
            "thank you so much",
            "thx",
            "appreciate it",
        ),
        keywords=(
            r"\b(?:obrigad[oa]|obg|brigad[oa]|brigadao|valeu+|vlw|agradeco|thanks|thank you|"
            r"thank u|thx|ty|appreciate it)\b",
        ),
    ),
    Intent(
        id="help",
        agent=ASSISTANT,
        description="Ask what the assistant can do and how to use it.",
        examples=(
            "o que você faz?",
            "como funciona isso aqui?",
            "quais comandos tem?",
            "me ajuda, nao sei usar",
            "o que eu posso te pedir?",
            "pra que serve esse bot",
            "ajuda",
            "menu",
            "what can you do?",
            "help",
            "how does this work?",
            "what can I ask you?",
        ),
        keywords=(
            r"^(?:ajuda|help|menu|socorro)\b|\b(?:o que|oq|no que) (?:voce|vc) (?:faz|sabe|pode)\b",
            r"\bcomo (?:eu )?(?:uso|usar|funciona) (?:isso|esse|o bot)|\bwhat can you do\b|"
            r"\bhow (?:do i use|does this work)\b",
        ),
    ),
    Intent(
        id="handoff.human",
        agent=ASSISTANT,
        description="Ask to talk to a person instead of the assistant.",
        examples=(
            "quero falar com um atendente",
            "me passa pra uma pessoa",
            "preciso falar com um humano",
            "chama o gerente",
            "atendente por favor",
            "tem alguem de verdade ai?",
            "quero falar com o suporte",
            "transfere pra alguem",
            "I want to talk to a human",
            "can I speak to an agent?",
            "transfer me to a real person",
            "get me a manager",
        ),
        keywords=(
            r"\b(?:atendente|humano|gerente|responsavel|pessoa de verdade|alguem de verdade|"
            r"uma pessoa|alguem da loja)\b",
            r"\b(?:human|real person|a person|manager|representative|customer service|agent)\b",
        ),
    ),
    # --- people-notes
    *(Intent(**spec) for spec in people_intents.PEOPLE_INTENTS),
    # --- agenda: cancelling and moving reminders and meetings
    *(Intent(**spec) for spec in agenda_intents.AGENDA_INTENTS),
)

# Messages that belong to no agent: the router treats being nearest to these as "unknown".
OFF_TOPIC: tuple[str, ...] = (
    "qual a capital da França?",
    "quem ganhou o jogo ontem?",
    "vai chover amanhã?",
    "me conta uma piada",
    "qual a raiz quadrada de 144",
    "quem descobriu o brasil",
    "escreve um poema sobre o mar",
    "qual o sentido da vida",
    "quantos anos tem o universo",
    "who is the president of the United States?",
    "what's the weather like today",
    "tell me a joke",
    "write me an essay about dogs",
    "what is the speed of light",
)
