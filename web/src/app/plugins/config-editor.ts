import { Component, OnInit, computed, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Problem, attempt, fieldError } from '../core/problem';
import { JsonSchema, PluginConfig } from '../core/types';
import { ErrorAlert } from '../shared/error-alert';
import { PluginsStore } from './plugins.store';

interface Field { name: string; schema: JsonSchema; kind: 'number' | 'integer' | 'boolean' | 'enum' | 'text'; }

/** Checks one value against its schema the way the plugin manager will; null when fine. */
export function checkField(field: Field, value: unknown, required: boolean): string | null {
  const s = field.schema;
  if (value === '' || value === null || value === undefined) {
    return required ? 'required' : null;
  }
  if (field.kind === 'number' || field.kind === 'integer') {
    const n = Number(value);
    if (!Number.isFinite(n) || (field.kind === 'integer' && !Number.isInteger(n))) {
      return `must be ${field.kind === 'integer' ? 'a whole number' : 'a number'}`;
    }
    if (s.minimum !== undefined && n < s.minimum) { return `must be ≥ ${s.minimum}`; }
    if (s.maximum !== undefined && n > s.maximum) { return `must be ≤ ${s.maximum}`; }
  }
  if (field.kind === 'text') {
    const text = String(value);
    if (s.minLength !== undefined && text.length < s.minLength) { return `at least ${s.minLength} characters`; }
    if (s.maxLength !== undefined && text.length > s.maxLength) { return `at most ${s.maxLength} characters`; }
  }
  return null;
}

/** A form made from the plugin's config schema; the plugin manager's field errors appear under their fields. */
@Component({
  selector: 'bkg-config-editor',
  imports: [FormsModule, ErrorAlert],
  template: `
    <h2>Config</h2>
    @if (!schema()) {
      <p class="muted">This plugin declares no settings (no configSchema in plugins.json).</p>
    } @else {
      <form (ngSubmit)="save()" data-testid="config-form">
        @for (field of fields(); track field.name) {
          <label class="field">
            <span>{{ field.name }} @if (field.schema.description) { <span class="muted">— {{ field.schema.description }}</span> }</span>
            @switch (field.kind) {
              @case ('boolean') { <input type="checkbox" [name]="field.name" [(ngModel)]="values[field.name]"> }
              @case ('enum') {
                <select [name]="field.name" [(ngModel)]="values[field.name]">
                  @for (option of field.schema.enum ?? []; track $index) { <option [ngValue]="option">{{ option }}</option> }
                </select>
              }
              @default {
                <input [type]="field.kind === 'text' ? 'text' : 'number'" [name]="field.name" [(ngModel)]="values[field.name]"
                       [attr.data-testid]="'config-' + field.name">
              }
            }
            @if (errorFor(field.name); as error) { <span class="field-error" [attr.data-testid]="'config-error-' + field.name">{{ error }}</span> }
          </label>
        }
        <div class="row">
          <button class="primary" type="submit" [disabled]="saving()">Save</button>
          <span class="muted">version {{ version() }}</span>
          @if (saved()) { <span class="muted" data-testid="config-saved">saved — the plugin gets it at its next start</span> }
        </div>
      </form>
      <bkg-error-alert [problem]="problem()" (dismissed)="problem.set(null)" />
    }
  `,
})
export class ConfigEditor implements OnInit {
  readonly pluginId = input.required<string>();
  readonly schema = input<JsonSchema | null>(null);
  private readonly plugins = inject(PluginsStore);

  protected values: Record<string, unknown> = {};
  protected readonly version = signal(0);
  protected readonly saving = signal(false);
  protected readonly saved = signal(false);
  protected readonly problem = signal<Problem | null>(null);
  private readonly localErrors = signal<Record<string, string>>({});

  protected readonly fields = computed<Field[]>(() => Object.entries(this.schema()?.properties ?? {}).map(([name, schema]) => ({
    name, schema,
    kind: schema.enum ? 'enum' : schema.type === 'boolean' ? 'boolean' : schema.type === 'integer' ? 'integer'
      : schema.type === 'number' ? 'number' : 'text',
  })));

  async ngOnInit(): Promise<void> {
    if (!this.schema()) {
      return;
    }
    await attempt(this.problem, async () => {
      const current: PluginConfig = await this.plugins.config(this.pluginId());
      const config = current.config ?? {};
      for (const field of this.fields()) {
        this.values[field.name] = config[field.name] ?? field.schema.default ?? (field.kind === 'boolean' ? false : '');
      }
      this.version.set(current.version); // a signal: the form is drawn again with the values above
    });
  }

  protected errorFor(name: string): string | null {
    return this.localErrors()[name] ?? fieldError(this.problem(), name);
  }

  protected async save(): Promise<void> {
    this.saved.set(false);
    const required = new Set(this.schema()?.required ?? []);
    const errors: Record<string, string> = {};
    const body: Record<string, unknown> = {};
    for (const field of this.fields()) {
      const value = this.values[field.name];
      const error = checkField(field, value, required.has(field.name));
      if (error) {
        errors[field.name] = error;
      } else if (value !== '' && value !== null && value !== undefined) {
        body[field.name] = field.kind === 'number' || field.kind === 'integer' ? Number(value) : value;
      }
    }
    this.localErrors.set(errors);
    if (Object.keys(errors).length) {
      return;
    }
    this.saving.set(true);
    this.saved.set(await attempt(this.problem, async () => {
      await this.plugins.saveConfig(this.pluginId(), body, this.version());
      this.version.set((await this.plugins.config(this.pluginId())).version);
    }));
    this.saving.set(false);
  }
}
