"""Word classes shared by the refusal rules (all on normalised, lower-case text)."""

from __future__ import annotations

I = r"\bi"
IM = r"\bi(?:'?m| am)"
CANT = r"(?:can'?t|can ?not|cannot|won'?t|will not|shan'?t|shall not)"
WOULDNT = r"(?:couldn'?t|could not|wouldn'?t|would not)"
DONT = r"(?:don'?t|do not)"
# Continuations after "I can't"/"I won't" that are not refusals: enthusiasm, emphasis, hedges, idioms.
NOT_REFUSING = (
    r"(?!\s+(?:wait|believe|stress|emphasi[sz]e|overstate|overemphasi[sz]e|thank|express|imagine|remember"
    r"|recall|guarantee|promise|be (?:\d+ ?%? |completely |entirely |absolutely |fully |totally )?(?:sure|certain)"
    r"|be (?:more|happier|prouder|long)|say (?:for (?:sure|certain)"
    r"|enough)|know for (?:sure|certain)|predict|help (?:but|feeling|thinking|wondering|smiling|laughing)"
    r"|get (?:enough|over)|lie|bore|judge|deny|disagree|complain|resist|argue with|keep you|take (?:long"
    r"|much)|spoil|forget|mind|speak for|tell you how (?:much|many|excited|happy|often|grateful)"
    r"|go into too much|find (?:a reason|fault)|fault|blame|agree more|recommend [^.!?]*?enough"
    r"|praise [^.!?]*?enough|apologi[sz]e for|abide|stand(?! (?:behind|by|for))|bear(?! with)|stomach|(?:just |simply )(?:give|tell|hand) you the (?:answers?|solution))\b)"
)
# What a refusing assistant declines to do, for the rules that need an object to be unambiguous.
ASSIST = (
    r"(?:help|assist|aid|support|provide|give|offer|share|supply|create|generate|write|produce|compose|draft"
    r"|make|comply|fulfil+|answer|respond|engage|participate|take part|condone|promote|encourage|endorse"
    r"|facilitate|contribute|continue|describe|explain|detail|disclose|reveal|discuss|teach|show|tell"
    r"|walk you|guide|advise|recommend|list|do (?:that|this|so|it)|go (?:into|further)|be (?:of|part"
    r"|involved)|in good conscience)"
)
IT_NOT = (
    r"\b(?:it|that|this|doing so)(?:'s not| is not| isn'?t| would not be| wouldn'?t be|'d not be"
    r"| would never be| is never|'s never| will not be| won'?t be| is certainly not|'s certainly not"
    r"| is simply not|'s simply not)"
)
CLAUSE_END = r"(?=\s*(?:[,.!?;:]|$|\b(?:and|or|but|nor)\b))"
NEGATION = r"(?:not|no|cannot|can'?t|won'?t|unable|never|decline|refuse)"
WRONG = (
    r"(?:illegal|unlawful|unethical|immoral|morally (?:wrong|reprehensible|unacceptable)|wrong"
    r"|unacceptable|reprehensible|abhorrent|deplorable|despicable|heinous|inexcusable|unjustifiable|inhumane"
    r"|harmful|dangerous|a (?:serious |grave |federal |violent |heinous )?(?:crime|criminal offen[cs]e"
    r"|offen[cs]e)|criminal|abusive|discriminatory|disrespectful|hurtful|offensive|inappropriate"
    r"|against the law|punishable|never (?:okay|ok|acceptable|justified|appropriate|the answer|right)|bad"
    r"|not (?:okay|ok|nice|right|fair|acceptable)|against the (?:rules|terms|law)|(?:vandalism|theft|assault|fraud|harassment|stalking"
    r"|trespassing|arson|murder|manslaughter|poisoning|extortion|blackmail|forgery|plagiarism|cheating"
    r"|animal cruelty|domestic violence|child abuse|abuse|bullying|a hate crime|hate speech|defamation|libel"
    r"|piracy|identity theft|kidnapping))"
)

# Who a redirect sends the user to.
HELPERS = (
    r"(?:professionals?|therapist|counsel+or|doctor|physician|gp|lawyer|attorney|authorities|police|hotline"
    r"|helpline|crisis|emergency|someone|somebody|expert|specialist|psychologist|psychiatrist|healthcare"
    r"|pharmacist|veterinarian|vet|trainer|accountant|cpa|advis[eo]r|organi[sz]ation|office|agency|services?"
    r"|parents|teacher|hr|human resources|law enforcement|support (?:group|line|services)|resources|website"
    r"|official (?:site|website|channels)|(?:\w+ )?provider|dealer(?:ship)?|insurer|insurance company|locksmith"
    r"|mechanic|physio(?:therapist)?|dentist|nurse|manufacturer|landlord|customer (?:service|support)"
    r"|it (?:department|desk|team)|support team|clinic|union|department|cent(?:re|er)|bureau|council|charity"
    r"|shelter|registrar|dermatologist|p(?:a|ae)?ediatrician|dietitian|nutritionist|optician|optometrist"
    r"|social worker|legal aid|poison control|animal control|pharmacy|pharmacies|agencies|hospital|urgent care|emergency room"
    r"|(?:your|a|the) local [\w'-]+)"
)

# Refusal idioms any assistant voice uses (general hard rules of the first_person family).
DECLINE_IDIOMS = (
    r"\b(?:that(?:'s| is)|it(?:'s| is)) (?:a|one) line (?:even )?(?:i|we) (?:don'?t|won'?t|will not|never"
    r"|shall not|refuse to) cross\b|\bi(?:'m| am) not about to\b|\bi(?:'ll| will| shall) (?:\w+ )?(?:teach"
    r"|share|give|tell|make|brew|write|provide|offer|help with) (?:you |ye |thee )?no\b"
    # "I must draw the line at ...", "slurs are where even I clock out"
    r"|\b(?:i|we)(?:'ll| will| must| have to|'ve got to|'d| would)? draw (?:the|a|my) line\b(?! between)"
    r"|\b(?:is|are|'s) where (?:even )?(?:i|we) (?:draw (?:the|a|my) line|stop|get off|clock out|tap out"
    r"|bow out|check out)\b"
    # "Over my dead body.", "Nice try.", "I'd sooner walk the plank than help ye", "the answer is no"
    r"|\bover my dead body\b(?=\s*[,.!;]|$)|^(?:\w+,? )?(?:nice try|dream on|in your dreams|fat chance|as if)\b"
    r"|\bi(?:'d| would) (?:sooner|rather) (?:[\w'-]+ ){1,6}than (?:help|teach|tell|give|share|do|write|make|assist)\b"
    r"|\b(?:the|my) answer is (?:still )?no\b|\b(?:you|ye)(?:'ll| will) (?:have to|need to|must) (?:find|look for|get"
    r"|seek|ask for|learn) (?:[\w'-]+ ){0,3}?(?:elsewhere|somewhere else|from someone else)\b"
    r"|^(?:\w+,? )?not (?:doing|writing"
    r"|touching|helping with|going there with) (?:that|this|it)(?: one)?[.!]*$|\bi(?:'ll| will|'m going to"
    r"| am going to|'d| would) (?:have to )?(?:leave out|omit|not include|exclude)\b"
)
